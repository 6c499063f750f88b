"""Batch posting: one payer check (voucher) spread over many patients, as a lockbox or
ERA file arrives, in ONE workflow (one transaction, one audit event).

The result is the same, to the cent, as posting every line one after the other with
:func:`claimdesk.core.services.payments.post_credit` (``apply="auto"``, or ``"none"``):
both are the money engine's credit entry
(:func:`claimdesk.core.posting.credits.post_credits`), a batch being many credits:

- each line becomes a :class:`~claimdesk.core.models.Credit` of that patient, drawn from
  the voucher (the voucher must hold enough undistributed money for the whole batch,
  else nothing is written);
- with auto-apply, a line pays that patient's open splits the voucher's payer is
  responsible for, oldest first (date of service, charge, split:
  :mod:`claimdesk.core.posting.allocation`), partial on the last; lines of the same
  patient apply in file order, each seeing what the earlier ones consumed;
- what a line cannot apply goes back to the voucher, unless ``keep_unapplied`` (with
  ``apply="none"`` nothing is applied and everything stays unapplied, as in post_credit);
- an insurance split paid to zero queues the next insurer's claim
  (:func:`claimdesk.core.posting.next_claims.queue_due`).

Money path (accounts of docs/ledger.md), one journal entry per kind for the whole batch:

  ``credit``         Dr UNDISTRIBUTED (voucher, the batch total) / Cr UNAPPLIED (one line per credit)
  ``payment``        Dr UNAPPLIED / Cr AR, a pair per application (credit split), with the
                     split's charge, patient and payer on both lines
  ``credit_return``  Dr UNAPPLIED (one line per credit with money left) / Cr UNDISTRIBUTED (voucher)

Every posting keeps its patient / credit / split / voucher dimensions, so each
patient's ledger (read from postings), ``claimdesk verify`` and returned checks (which
reverse every entry that touched the voucher) work as for single credits. An entry
names the patient only when the whole batch is one patient's.

:func:`plan` is what a batch does per line (the allocation above, then what each line keeps
or gives back); posting hands its allocations to the money engine, and :func:`preview` shows
the same plan on a read: per line which charges it pays, what it keeps and sends back, a
warning for a line that applies nothing (its money goes back to the voucher), and what
posting would refuse. The CLI's ``payments post-batch --dry-run`` and the TUI's Batch
posting screen show it.

The lines come from a lockbox / ERA file (:func:`read_lines`) or are typed or pasted by the
clerk (``data["text"]``, read by :func:`parse_text`): :mod:`.batch_lines`. Their
:class:`LineFile` names a line the service refuses as the clerk finds it (``lines.3.amount
... (row 5 of era.csv)``; ``line 5, amount: ...`` for typed lines). The same file (its
bytes) or the same typed lines posted again are refused unless confirmed (``again``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Callable

from marshmallow import Schema, ValidationError, fields, validate

from claimdesk.core import db, workflow
from claimdesk.core.errors import ClaimdeskError, InputError, NotFound, Refused, flatten_messages
from claimdesk.core.models import AuditEvent, Payer, Voucher
from claimdesk.core.money import fmt
from claimdesk.core.posting import allocation, credits
from claimdesk.core.validation import Id, Text, load
from claimdesk.core.services import payment_views
from claimdesk.core.services.batch_lines import (  # noqa: F401 - the lines' API, re-exported
    FORMAT, HEADER, BatchLine, LineFile, TypedLines, parse_text, read_lines,
)
from claimdesk.core.services.common import get

#: Most lines one batch takes (a lockbox file is usually hundreds to a few thousand).
MAX_LINES = 100_000


# --- input ----------------------------------------------------------------------------
class BatchInput(Schema):
    """A batch: the voucher, its lines, auto-apply or not, keep what is left or return it."""

    voucher_id = Id(required=True)
    #: each line is checked by :class:`BatchLine` (one ``many=True`` load: a third faster
    #: than a nested field on 10,000 lines)
    lines = fields.List(fields.Raw(), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES, error="a batch has 1 to {max} lines"))
    apply = fields.String(load_default="auto", validate=validate.OneOf(["auto", "none"]))
    keep_unapplied = fields.Boolean(load_default=False)
    memo = Text(max_length=200, load_default="")


_LINES = BatchLine(many=True)


def validate_batch(data: dict) -> dict:
    """The validated batch; bad input raises :class:`InputError` naming the field (``lines.3.amount``)."""
    if isinstance(data, dict) and not isinstance(data.get("lines"), (list, tuple, type(None))):
        raise InputError({"lines": ["must be a list of lines (patient_id, amount, memo)"]})
    clean = load(BatchInput, data)
    try:
        clean["lines"] = _LINES.load(clean["lines"])
    except ValidationError as exc:
        raise InputError(flatten_messages({"lines": exc.messages})) from None
    return clean


def read_batch(data: dict) -> tuple[dict, LineFile | None]:
    """The validated batch (:func:`validate_batch`) and where its lines came from.

    The lines are ``data["text"]`` (typed or pasted, read by :func:`parse_text`: the header
    optional) or ``data["lines"]``: a :class:`LineFile` (:func:`read_lines`) or a plain list.
    The source (None for a plain list) names the lines in errors, warnings and the preview:
    ``line 4, amount: ...`` for typed lines, ``lines.3.amount: ... (row 5 of era.csv)`` for a
    file, ``lines.3.amount`` for a list."""
    source = None
    if isinstance(data, dict) and data.get("text") is not None:
        if data.get("lines") is not None:
            raise InputError({"text": ["give the lines or the text of the lines, not both"]})
        if not isinstance(data["text"], str):
            raise InputError({"text": [f"must be the lines as text: {HEADER}, one line per patient"]})
        source = parse_text(data["text"])
        data = {**{k: v for k, v in data.items() if k != "text"}, "lines": list(source)}
    elif isinstance(data, dict) and isinstance(data.get("lines"), LineFile):
        source = data["lines"]
    try:
        return validate_batch(data), source
    except InputError as exc:
        raise _locate(source, exc) from None


def _locate(source: LineFile | None, exc: ClaimdeskError) -> ClaimdeskError:
    return source.locate(exc) if source is not None else exc


def _where(source: LineFile | None, index: int) -> str:
    """How the clerk finds line ``index``: ``line 4`` (typed), ``row 5 of era.csv``, ``line 4`` (a list)."""
    return source.where(index) if source is not None else f"line {index + 1}"


def _summary(clean: dict) -> dict:
    """What the audit trail records: the voucher, the line count and total, and a digest of
    the lines (so a retried submit with other lines under the same key is refused)."""
    lines = clean["lines"]
    canon = json.dumps([[ln["patient_id"], ln["amount"], ln["memo"]] for ln in lines], separators=(",", ":"))
    return {"voucher_id": clean["voucher_id"], "lines": len(lines), "total": sum(ln["amount"] for ln in lines),
            "patients": len({ln["patient_id"] for ln in lines}), "apply": clean["apply"],
            "keep_unapplied": clean["keep_unapplied"], "memo": clean["memo"],
            "lines_sha256": hashlib.sha256(canon.encode()).hexdigest()}


# --- the same file twice ----------------------------------------------------------------
class AlreadyPosted(Refused):
    """A lines file whose bytes were posted before: posting it again needs a confirmation
    (``again``; the CLI's ``payments post-batch --again``)."""


ACTION = "credit.post_batch"


def earlier_posting(file_sha256: str) -> dict | None:
    """The first batch posted from a file with these bytes (found by the ``file_sha256`` its
    audit event's inputs record): ``audit_id``, ``at``, ``user``, ``voucher_id``, ``lines``,
    ``total``; None when there is none (or no digest is given)."""
    if not file_sha256 or not all(c in "0123456789abcdef" for c in file_sha256):
        return None
    ev = (AuditEvent.select().where((AuditEvent.action == ACTION)
                                    & AuditEvent.inputs.contains(f'"file_sha256": "{file_sha256}"'))
          .order_by(AuditEvent.id).first())
    if ev is None:
        return None
    inputs = ev.inputs or {}
    return {"audit_id": ev.id, "at": str(ev.at)[:16], "user": ev.user, "voucher_id": inputs.get("voucher_id"),
            "lines": inputs.get("lines"), "total": inputs.get("total")}


def _repeat_refusal(file_sha256: str, file_name: str, kind: str = "file") -> AlreadyPosted | None:
    """The refusal of a file (``kind`` ``"file"``) or typed lines (``"lines"``) posted before, or None."""
    before = earlier_posting(file_sha256)
    if before is None:
        return None
    if kind == "lines":
        what, same, field = "these lines were", "the same lines", "lines"
    else:
        what, same, field = (f"{file_name} was" if file_name else "this file was"), "the same file", "file"
    total = f", {fmt(before['total'])}" if isinstance(before["total"], int) else ""
    return AlreadyPosted(
        f"{what} posted before: {same} (sha256 {file_sha256[:12]}) went to voucher "
        f"{before['voucher_id']} on {before['at']} by {before['user']} (audit {before['audit_id']}: "
        f"{before['lines']} lines{total}); nothing was written. Post {'them' if kind == 'lines' else 'it'} "
        f"again only if that is meant, with a confirmation", field=field)


def _repeat_key(source: LineFile | None, file_sha256: str, file_name: str) -> tuple[str, str, str]:
    """The digest, name and kind the repeat check uses: those given, else the source's (typed
    lines: the digest of the lines as read; a :class:`LineFile`: of its bytes)."""
    if file_sha256 or source is None:
        return file_sha256, file_name, getattr(source, "kind", "file")
    return source.sha256, file_name or source.name, source.kind


# --- what stops a batch -----------------------------------------------------------------
def _missing_patients(lines: list[dict]) -> set[int]:
    """The patients of these lines that do not exist (one query)."""
    pids = sorted({ln["patient_id"] for ln in lines})
    among, params = db.ids_in(pids)
    return set(pids) - {r[0] for r in db.sql(f"SELECT id FROM patient WHERE id {among}", params)}


def _refusals(voucher: Voucher, lines: list[dict], missing: set[int] | None = None) -> list[ClaimdeskError]:
    """Why the voucher cannot fund these lines, in the order posting checks (it raises the
    first): a returned voucher or one without enough undistributed money, then the first line
    whose patient does not exist (``missing``: :func:`_missing_patients`, read when not given)."""
    out: list[ClaimdeskError] = []
    total = sum(ln["amount"] for ln in lines)
    try:
        credits.require_active(voucher)
    except Refused as exc:
        out.append(exc)
    else:
        if total > voucher.undistributed:
            out.append(Refused(f"the batch totals {fmt(total)} but voucher {voucher.id} has only "
                               f"{fmt(voucher.undistributed)} undistributed", field="voucher_id"))
    missing = _missing_patients(lines) if missing is None else missing
    if missing:
        i = next(i for i, ln in enumerate(lines) if ln["patient_id"] in missing)
        out.append(NotFound(f"no patient with id {lines[i]['patient_id']}", field=f"lines.{i}.patient_id"))
    return out


def _credit_lines(clean: dict) -> list[credits.CreditLine]:
    """One credit per line: the line's patient and amount (plain cents: the engine's arithmetic
    stays on ``int``), its memo or the batch's."""
    return [credits.CreditLine(ln["patient_id"], int(ln["amount"]), ln["memo"] or clean["memo"])
            for ln in clean["lines"]]


# --- the plan: what each line applies, keeps and gives back -----------------------------
@dataclasses.dataclass(slots=True)
class Plan:
    """What a batch does, per line in order: the allocations the money engine makes
    (:func:`claimdesk.core.posting.allocation.auto_allocate`, ``line`` = the line's index) and
    the cents each line applies, keeps unapplied and gives back to the voucher."""

    allocations: list[allocation.Allocation]
    applied: list[int]
    unapplied: list[int]
    returned: list[int]


def plan(payer_id: int | None, clean: dict) -> Plan:
    """The plan of a validated batch on a voucher of ``payer_id`` (a read): with auto-apply,
    each line pays its patient's open splits of that payer oldest first, a patient's lines in
    order (the money engine's allocation, the one posting hands to
    :func:`~claimdesk.core.posting.credits.post_credits`); what a line cannot apply goes back
    to the voucher unless ``keep_unapplied`` (or ``apply`` is ``"none"``: nothing applied, all
    kept). ``payer_id`` None (no such voucher): nothing applies."""
    lines = [(ln["patient_id"], int(ln["amount"])) for ln in clean["lines"]]
    allocations = []
    if payer_id is not None and clean["apply"] == "auto":
        allocations = allocation.auto_allocate(payer_id, lines)[0]
    applied = [0] * len(lines)
    for a in allocations:
        applied[a.line] += a.amount
    left = [amount - done for (_pid, amount), done in zip(lines, applied)]
    if clean["apply"] == "auto" and not clean["keep_unapplied"]:
        return Plan(allocations, applied, [0] * len(lines), left)
    return Plan(allocations, applied, left, [0] * len(lines))


# --- the workflow ---------------------------------------------------------------------
#: The steps ``progress`` counts: checked, drawn, applied, remainders settled, claims queued.
STEPS = 4


def post_credit_batch(data: dict, *, idempotency_key: str | None = None,
                      progress: Callable[[int, int], None] | None = None,
                      file_sha256: str = "", file_name: str = "", again: bool = False) -> dict:
    """Workflow ``credit.post_batch``: draw every line from the voucher, auto-apply, settle.

    ``data``: ``{"voucher_id", "lines": [{"patient_id", "amount", "memo"?}, ...],
    "apply": "auto"|"none", "keep_unapplied": bool, "memo": str}``, or ``"text"`` (typed or
    pasted lines, ``patient_id,amount[,memo]`` one per line) instead of ``"lines"``
    (:func:`read_batch`). Returns the voucher, the totals (``total``, ``drawn``,
    ``applied_total``, ``unapplied``, ``returned_to_voucher``, ``voucher_undistributed``),
    ``credit_ids`` in line order and ``credits``: per line its credit, patient, amount,
    applied, unapplied and returned. The allocation is :func:`plan`'s, as the preview shows it.

    ``progress``, if given, is called as ``progress(done, STEPS)``: ``(0, STEPS)`` once the
    voucher is locked and the batch checked, then after each set-based step (draw, apply,
    return remainders, queue claims), ending at ``(STEPS, STEPS)`` just before the audit
    event. It runs inside the one transaction, on the thread running the workflow, so an
    exception it raises rolls the whole batch back: no credit, no audit event (how a front
    end cancels). It does not change the result.

    ``file_sha256`` (the digest of the lines file's bytes, :attr:`LineFile.sha256`) is recorded
    with the inputs; a file posted before is refused (:class:`AlreadyPosted`, field ``file``,
    naming when, by whom and on which voucher) unless ``again`` confirms it. ``file_name`` names
    the file in that message. Typed lines (``text``) and a :class:`LineFile` given as ``lines``
    bring their own digest (typed lines: of the lines as read; field ``lines``). A retried
    submit under the same ``idempotency_key`` still returns the first result. Errors about a
    line name it as its source does (``line 4, amount``; ``(row 5 of era.csv)``).
    """
    clean, source = read_batch(data)
    file_sha256, file_name, kind = _repeat_key(source, file_sha256, file_name)
    inputs = _summary(clean)
    if file_sha256:
        inputs["file_sha256"] = file_sha256
        if again:
            inputs["again"] = True
    patients = {ln["patient_id"] for ln in clean["lines"]}

    def body() -> dict:
        if file_sha256 and not again:
            # (after the voucher's row lock: two clerks posting the file on it at once are serialised)
            get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
            refused = _repeat_refusal(file_sha256, file_name, kind)
            if refused is not None:
                raise refused
        return _post(clean, progress)

    try:
        return workflow.run(ACTION, body, inputs=inputs,
                            patient_id=next(iter(patients)) if len(patients) == 1 else None,
                            idempotency_key=idempotency_key)
    except ClaimdeskError as exc:
        located = _locate(source, exc)
        if located is exc:
            raise
        raise located from None


def _post(clean: dict, progress: Callable[[int, int], None] | None = None) -> dict:
    step = progress or (lambda _done, _total: None)
    lines = clean["lines"]
    voucher = get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
    refused = _refusals(voucher, lines)
    if refused:
        raise refused[0]
    step(0, STEPS)
    planned = plan(voucher.payer_id, clean)
    spent = credits.post_credits(voucher, _credit_lines(clean),
                                 planned.allocations if clean["apply"] == "auto" else "none",
                                 keep_unapplied=clean["keep_unapplied"], memo=clean["memo"], memos=credits.BATCH,
                                 step=lambda done: step(done, STEPS))
    total, returned = sum(ln["amount"] for ln in lines), sum(spent.returned)
    per_line = [{"line": i, "credit_id": cid, "patient_id": ln["patient_id"], "amount": ln["amount"],
                 "applied": spent.applied[i], "unapplied": spent.unapplied[i], "returned_to_voucher": spent.returned[i]}
                for i, (ln, cid) in enumerate(zip(lines, spent.credit_ids))]
    return {"voucher_id": voucher.id, "payer_id": voucher.payer_id, "payer": Payer.get_by_id(voucher.payer_id).name,
            "lines": len(lines), "patients": len({ln["patient_id"] for ln in lines}), "total": total,
            "drawn": total - returned, "applied_total": sum(spent.applied), "splits_paid": len(spent.allocations),
            "unapplied": sum(spent.unapplied), "returned_to_voucher": returned,
            # the voucher row is locked by this transaction: what it holds now is known
            "voucher_undistributed": voucher.undistributed - total + returned,
            "credit_ids": spent.credit_ids, "credits": per_line}


# --- preview: the same checks and plan, on a read ---------------------------------------
def preview(data: dict, *, file_sha256: str = "", file_name: str = "", again: bool = False) -> dict:
    """What :func:`post_credit_batch` would do with ``data``, writing nothing (plain reads, no
    transaction): the same checks and the same :func:`plan`. Bad input raises
    :class:`InputError` as posting does; what posting would refuse comes back in ``refusals``
    (``[{"field", "message", "kind"}]``, kind ``not_found`` or ``refused``; the first is what
    posting raises; none: postable), each line named as its source names it.

    Returns the voucher (``voucher``: its row, None when there is no such voucher), the
    totals posting would report (``total``, ``applied_total``, ``unapplied``,
    ``returned_to_voucher``, ``drawn``, ``voucher_undistributed`` now and
    ``voucher_undistributed_after``) and ``credits``: per line where it is (``where``:
    ``line 4``, ``row 5 of era.csv``), its patient, amount, memo, what it would apply
    (``applied``) and to which charges (``applications``: charge id, encounter id, service
    code, date of service, rank, amount), keep unapplied and send back to the voucher, and
    its ``warnings`` (a line that applies nothing). ``warnings`` lists every line's, and
    ``warning`` sums them up in one line (``2 lines apply nothing: 92.00 goes back to the
    voucher``; "" when none). With a file digest (given, or typed lines' own),
    ``posted_before`` is the earlier posting of the same lines (or None), and without
    ``again`` it is a refusal, as posting would say.
    """
    clean, source = read_batch(data)
    file_sha256, file_name, kind = _repeat_key(source, file_sha256, file_name)
    lines = clean["lines"]
    refusals: list[ClaimdeskError] = []
    try:
        voucher = get(Voucher, clean["voucher_id"], "voucher", field="voucher_id")
    except NotFound as exc:
        voucher = None
        refusals.append(exc)
    posted_before = earlier_posting(file_sha256)
    if posted_before is not None and not again:
        refusals.append(_repeat_refusal(file_sha256, file_name, kind))
    missing = _missing_patients(lines)
    if voucher is not None:
        refusals += _refusals(voucher, lines, missing)
    payer = Payer.get_by_id(voucher.payer_id).name if voucher is not None else None
    planned = plan(voucher.payer_id if voucher is not None else None, clean)
    per_line = _preview_lines(clean, planned, source)
    if voucher is not None and clean["apply"] == "auto":
        _warn(per_line, missing, payer, give_back=not clean["keep_unapplied"])
    warnings = [w for row in per_line for w in row["warnings"]]
    total = sum(ln["amount"] for ln in lines)
    returned = sum(planned.returned)
    undistributed = voucher.undistributed if voucher is not None else None
    located = [_locate(source, exc) for exc in refusals]
    row = payment_views.voucher_row(voucher, voucher.undistributed, payer) if voucher is not None else None
    return {"voucher_id": clean["voucher_id"], "voucher": row,
            "apply": clean["apply"], "keep_unapplied": clean["keep_unapplied"], "memo": clean["memo"],
            "source": source.name if source is not None else "", "source_kind": getattr(source, "kind", ""),
            "lines": len(lines), "patients": len({ln["patient_id"] for ln in lines}), "total": total,
            "applied_total": sum(planned.applied), "unapplied": sum(planned.unapplied),
            "returned_to_voucher": returned, "drawn": total - returned, "splits_paid": len(planned.allocations),
            "voucher_undistributed": undistributed,
            "voucher_undistributed_after": None if undistributed is None else undistributed - total + returned,
            "credits": per_line, "warnings": warnings,
            "warning": warning_summary(per_line, give_back=not clean["keep_unapplied"]),
            "posted_before": posted_before,
            "refusals": [{"field": exc.field, "message": exc.message,
                          "kind": "not_found" if isinstance(exc, NotFound) else "refused"} for exc in located]}


def _preview_lines(clean: dict, planned: Plan, source: LineFile | None) -> list[dict]:
    """Per line: where it is, its patient, amount and memo, and what :func:`plan` does with it."""
    lines = clean["lines"]
    per_line = [{"line": i, "where": _where(source, i), "patient_id": ln["patient_id"], "amount": ln["amount"],
                 "memo": ln["memo"] or clean["memo"], "applied": planned.applied[i], "applications": [],
                 "unapplied": planned.unapplied[i], "returned_to_voucher": planned.returned[i], "warnings": []}
                for i, ln in enumerate(lines)]
    charges = _charge_facts({a.split.charge_id for a in planned.allocations})
    for a in planned.allocations:
        per_line[a.line]["applications"].append({"charge_id": a.split.charge_id, **charges[a.split.charge_id],
                                                 "rank": a.split.rank, "amount": a.amount})
    return per_line


def _warn(per_line: list[dict], missing: set[int], payer: str, *, give_back: bool) -> None:
    """Add its warning to every line that applies nothing (of a patient that exists: an unknown
    patient is a refusal): why (the patient owes the payer nothing, or the patient's earlier
    lines pay all of it) and where the money goes."""
    paid_before: set[int] = set()
    for row in per_line:
        pid, amount = row["patient_id"], row["amount"]
        if row["applied"]:
            paid_before.add(pid)
            continue
        if pid in missing:
            continue
        why = (f"the patient's earlier line(s) pay all they owe {payer}" if pid in paid_before
               else f"the patient owes {payer} nothing")
        goes = "goes back to the voucher" if give_back else "stays unapplied on the patient's account"
        row["warnings"].append(f"{row['where']} (patient {pid}, {fmt(amount)}): applies nothing: {why}; "
                               f"{fmt(amount)} {goes}")


def warning_summary(per_line: list[dict], *, give_back: bool = True) -> str:
    """``"2 lines apply nothing: 92.00 goes back to the voucher"`` for the preview's lines that
    warn; "" when none does."""
    warned = [row for row in per_line if row["warnings"]]
    if not warned:
        return ""
    cents = sum(row["amount"] for row in warned)
    lines = "1 line applies" if len(warned) == 1 else f"{len(warned)} lines apply"
    goes = "goes back to the voucher" if give_back else "stays unapplied on the patients' accounts"
    return f"{lines} nothing: {fmt(cents)} {goes}"


def applications_text(applications: list[dict], width: int | None = None) -> str:
    """A line's charges, short: ``"enc 41 99213 06-02 25.00; enc 42 99214 06-09 5.00"``
    (encounter, service code, month-day of service, amount). With ``width``, as many as fit
    and ``+N`` for the rest (``"enc 41 99213 06-02 25.00 +2"``; the first cut with ``…`` when
    even it does not fit)."""
    parts = [f"enc {a['encounter_id']} {a['service_code']} {a['dos'][5:10]} {fmt(a['amount'])}"
             for a in applications]
    if width is None:
        return "; ".join(parts)
    shown = ""
    for i, part in enumerate(parts):
        more = f" +{len(parts) - i - 1}" if i < len(parts) - 1 else ""
        joined = f"{shown}; {part}" if shown else part
        if len(joined) + len(more) > width:
            if shown:
                return f"{shown} +{len(parts) - i}"
            room = max(width - len(more), 1)
            return (part if len(part) <= room else part[:room - 1] + "…") + more
        shown = joined
    return shown


def _charge_facts(charge_ids) -> dict[int, dict]:
    """charge -> its encounter, service code and date of service (ISO), one query."""
    if not charge_ids:
        return {}
    among, params = db.ids_in(sorted(charge_ids))
    rows = db.sql("SELECT c.id, c.encounter_id, sc.code, c.dos FROM charge c"
                  " JOIN service_code sc ON sc.id = c.service_code_id"
                  f" WHERE c.id {among}", params)
    return {cid: {"encounter_id": enc, "service_code": code, "dos": str(dos)[:10]} for cid, enc, code, dos in rows}
