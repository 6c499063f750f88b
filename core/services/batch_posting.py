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

:func:`preview` runs the same checks and the same allocation on a read: what each line
would pay (which charges), keep and send back, and what posting would refuse; the CLI's
``payments post-batch --dry-run`` and the TUI's Batch posting screen show it.

Lines files (lockbox / ERA exports) are read by :func:`read_lines`, shared by the CLI's
``payments post-batch --file`` and the TUI's Batch posting screen: its :class:`LineFile`
names the file row of a line the service refuses (``lines.3.amount ... (row 5 of era.csv)``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Callable

from marshmallow import Schema, ValidationError, fields, validate

from claimdesk.core import db, files, workflow
from claimdesk.core.errors import ClaimdeskError, InputError, NotFound, Refused, flatten_messages
from claimdesk.core.models import AuditEvent, Payer, Voucher
from claimdesk.core.money import fmt, json_loads
from claimdesk.core.posting import allocation, credits
from claimdesk.core.validation import Id, Money, Text, load
from claimdesk.core.services import payment_views
from claimdesk.core.services.common import get

#: Most lines one batch takes (a lockbox file is usually hundreds to a few thousand).
MAX_LINES = 100_000


# --- input ----------------------------------------------------------------------------
class BatchLine(Schema):
    """One line of the file: a patient and the amount drawn for them."""

    patient_id = Id(required=True)
    amount = Money(required=True, positive=True)
    memo = Text(max_length=200, load_default="")


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


# --- line files (the CLI's ``payments post-batch --file`` and the TUI's Batch posting) --
class LineFile(list):
    """The lines of a batch file (a plain list of ``{"patient_id", "amount", "memo"?}`` with
    the values as text: the service validates them) that knows which row of the file each
    line came from, to name it in errors."""

    def __init__(self, lines: list, name: str, places: list[str], sha256: str = ""):
        super().__init__(lines)
        self.name = name
        self.places = places
        self.sha256 = sha256
        """The sha256 of the file's bytes: posting the same file again is refused unless confirmed."""

    def where(self, index: int) -> str:
        """``"row 7 of era.csv"`` (CSV rows counted from the header line) or ``"item 3 of lines.json"``."""
        place = self.places[index] if 0 <= index < len(self.places) else f"line {index + 1}"
        return f"{place} of {self.name}"

    def place(self, field, message: str) -> str:
        """``message`` about ``field`` with the file row added when the field is ``lines.N...``."""
        m = re.match(r"lines\.(\d+)(\.|$)", str(field or ""))
        return f"{message} ({self.where(int(m.group(1)))})" if m else message

    def locate(self, exc: ClaimdeskError) -> ClaimdeskError:
        """``exc`` with the file row added to every message about ``lines.N...``; ``exc``
        itself when it names no line."""
        if isinstance(exc, InputError):
            if not any(re.match(r"lines\.\d+(\.|$)", str(k)) for k in exc.messages):
                return exc
            return InputError({k: [self.place(k, str(m)) for m in (v if isinstance(v, list) else [v])]
                               for k, v in exc.messages.items()})
        if not re.match(r"lines\.\d+(\.|$)", exc.field or ""):
            return exc
        return type(exc)(self.place(exc.field, exc.message), field=exc.field)


def read_lines(path: str) -> LineFile:
    """The lines of a batch file: ``.csv`` with a header naming ``patient_id,amount[,memo]``
    (other columns ignored; a row with more fields than the header is refused, as an
    unquoted ``1,000.00`` would be), or ``.json``: a list of ``{"patient_id", "amount",
    "memo"}`` or ``{"lines": [...]}``. A file that cannot be read raises
    :class:`InputError` on ``file``, naming the row when one row is at fault. A file larger
    than :data:`claimdesk.core.files.BATCH_LIMIT` is refused after reading that much (a wrong
    path such as ``/dev/zero`` stops at once). Amounts in a JSON file are strings (``"12.50"``):
    a JSON number is refused by the money field, naming the line."""
    file = Path(path).expanduser()
    if file.suffix.lower() not in (".json", ".csv"):
        raise InputError({"file": [f"{path!r}: use a .csv or .json file"]})
    data = files.read_limited(file, files.BATCH_LIMIT, "file")
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError({"file": [f"{path!r} is not UTF-8 text"]}) from None
    if file.suffix.lower() == ".json":
        try:
            doc = json_loads(text)
        except json.JSONDecodeError as exc:
            raise InputError({"file": [f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"]}) from None
        except RecursionError:
            raise InputError({"file": ["not valid JSON: nested too deeply"]}) from None
        lines = doc.get("lines") if isinstance(doc, dict) else doc
        if not isinstance(lines, list):
            raise InputError({"file": ["a JSON batch is a list of lines or {\"lines\": [...]}"]})
        return LineFile(lines, file.name, [f"item {i + 1}" for i in range(len(lines))], digest)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("patient_id", "amount") if c not in header]
    if missing:
        raise InputError({"file": [f"the CSV header must name patient_id,amount[,memo]; missing {', '.join(missing)}"]})
    reader.fieldnames = header
    lines, places = [], []
    for row in reader:
        if row.get(None):
            raise InputError({"file": [f"row {reader.line_num} of {file.name} has more fields than the header "
                                       f"({len(header)}); quote a memo with commas, write amounts without "
                                       f"thousands separators"]})
        line = {k: (row.get(k) or "").strip() for k in ("patient_id", "amount")}
        if (row.get("memo") or "").strip():
            line["memo"] = row["memo"].strip()
        lines.append(line)
        places.append(f"row {reader.line_num}")
    return LineFile(lines, file.name, places, digest)


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


def _repeat_refusal(file_sha256: str, file_name: str) -> AlreadyPosted | None:
    before = earlier_posting(file_sha256)
    if before is None:
        return None
    what = f"{file_name} " if file_name else "this file "
    total = f", {fmt(before['total'])}" if isinstance(before["total"], int) else ""
    return AlreadyPosted(
        f"{what}was posted before: the same file (sha256 {file_sha256[:12]}) went to voucher "
        f"{before['voucher_id']} on {before['at']} by {before['user']} (audit {before['audit_id']}: "
        f"{before['lines']} lines{total}); nothing was written. Post it again only if that is meant, "
        f"with a confirmation", field="file")


# --- what stops a batch -----------------------------------------------------------------
def _refusals(voucher: Voucher, lines: list[dict]) -> list[ClaimdeskError]:
    """Why the voucher cannot fund these lines, in the order posting checks (it raises the
    first): a returned voucher or one without enough undistributed money, then the first line
    whose patient does not exist."""
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
    first_line: dict[int, int] = {}
    for i, ln in enumerate(lines):
        first_line.setdefault(ln["patient_id"], i)
    among, params = db.ids_in(list(first_line))
    missing = set(first_line) - {r[0] for r in db.sql(f"SELECT id FROM patient WHERE id {among}", params)}
    if missing:
        i = min(first_line[p] for p in missing)
        out.append(NotFound(f"no patient with id {lines[i]['patient_id']}", field=f"lines.{i}.patient_id"))
    return out


def _credit_lines(clean: dict) -> list[credits.CreditLine]:
    """One credit per line: the line's patient and amount (plain cents: the engine's arithmetic
    stays on ``int``), its memo or the batch's."""
    return [credits.CreditLine(ln["patient_id"], int(ln["amount"]), ln["memo"] or clean["memo"])
            for ln in clean["lines"]]


# --- the workflow ---------------------------------------------------------------------
#: The steps ``progress`` counts: checked, drawn, applied, remainders settled, claims queued.
STEPS = 4


def post_credit_batch(data: dict, *, idempotency_key: str | None = None,
                      progress: Callable[[int, int], None] | None = None,
                      file_sha256: str = "", file_name: str = "", again: bool = False) -> dict:
    """Workflow ``credit.post_batch``: draw every line from the voucher, auto-apply, settle.

    ``data``: ``{"voucher_id", "lines": [{"patient_id", "amount", "memo"?}, ...],
    "apply": "auto"|"none", "keep_unapplied": bool, "memo": str}``. Returns the voucher,
    the totals (``total``, ``drawn``, ``applied_total``, ``unapplied``,
    ``returned_to_voucher``, ``voucher_undistributed``), ``credit_ids`` in line order and
    ``credits``: per line its credit, patient, amount, applied, unapplied and returned.

    ``progress``, if given, is called as ``progress(done, STEPS)``: ``(0, STEPS)`` once the
    voucher is locked and the batch checked, then after each set-based step (draw, apply,
    return remainders, queue claims), ending at ``(STEPS, STEPS)`` just before the audit
    event. It runs inside the one transaction, on the thread running the workflow, so an
    exception it raises rolls the whole batch back: no credit, no audit event (how a front
    end cancels). It does not change the result.

    ``file_sha256`` (the digest of the lines file's bytes, :attr:`LineFile.sha256`) is recorded
    with the inputs; a file posted before is refused (:class:`AlreadyPosted`, field ``file``,
    naming when, by whom and on which voucher) unless ``again`` confirms it. ``file_name`` names
    the file in that message. A retried submit under the same ``idempotency_key`` still returns
    the first result.
    """
    clean = validate_batch(data)
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
            refused = _repeat_refusal(file_sha256, file_name)
            if refused is not None:
                raise refused
        return _post(clean, progress)

    return workflow.run(ACTION, body, inputs=inputs,
                        patient_id=next(iter(patients)) if len(patients) == 1 else None,
                        idempotency_key=idempotency_key)


def _post(clean: dict, progress: Callable[[int, int], None] | None = None) -> dict:
    step = progress or (lambda _done, _total: None)
    lines = clean["lines"]
    voucher = get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
    refused = _refusals(voucher, lines)
    if refused:
        raise refused[0]
    step(0, STEPS)
    spent = credits.post_credits(voucher, _credit_lines(clean), clean["apply"], keep_unapplied=clean["keep_unapplied"],
                                 memo=clean["memo"], memos=credits.BATCH, step=lambda done: step(done, STEPS))
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


# --- preview: the same checks and allocation, on a read ---------------------------------
def preview(data: dict, *, file_sha256: str = "", file_name: str = "", again: bool = False) -> dict:
    """What :func:`post_credit_batch` would do with ``data``, writing nothing (plain reads, no
    transaction). Bad input raises :class:`InputError` as posting does; what posting would
    refuse comes back in ``refusals`` (``[{"field", "message", "kind"}]``, kind ``not_found`` or
    ``refused``; the first is what posting raises; none: postable).

    Returns the voucher (``voucher``: its row, None when there is no such voucher), the
    totals posting would report (``total``, ``applied_total``, ``unapplied``,
    ``returned_to_voucher``, ``drawn``, ``voucher_undistributed`` now and
    ``voucher_undistributed_after``) and ``credits``: per line its patient, amount, memo, what
    it would apply (``applied``) and to which charges (``applications``: charge id, service
    code, date of service, rank, amount), keep unapplied and send back to the voucher. With
    ``file_sha256``, ``posted_before`` is the earlier posting of the same file (or None), and
    without ``again`` it is a refusal, as posting would say.
    """
    clean = validate_batch(data)
    lines = clean["lines"]
    refusals: list[ClaimdeskError] = []
    try:
        voucher = get(Voucher, clean["voucher_id"], "voucher", field="voucher_id")
    except NotFound as exc:
        voucher = None
        refusals.append(exc)
    posted_before = earlier_posting(file_sha256)
    if posted_before is not None and not again:
        refusals.append(_repeat_refusal(file_sha256, file_name))
    if voucher is not None:
        refusals += _refusals(voucher, lines)
    amounts = [ln["amount"] for ln in lines]
    allocations = []
    if voucher is not None and clean["apply"] == "auto":
        allocations = allocation.auto_allocate(voucher.payer_id, [(ln["patient_id"], ln["amount"]) for ln in lines])[0]
    per_line = [{"line": i, "patient_id": ln["patient_id"], "amount": ln["amount"], "memo": ln["memo"] or clean["memo"],
                 "applied": 0, "applications": [], "unapplied": 0, "returned_to_voucher": 0}
                for i, ln in enumerate(lines)]
    charges = _charge_facts({a.split.charge_id for a in allocations})
    for a in allocations:
        row = per_line[a.line]
        row["applied"] += a.amount
        row["applications"].append({"charge_id": a.split.charge_id, **charges[a.split.charge_id],
                                    "rank": a.split.rank, "amount": a.amount})
    give_back = clean["apply"] == "auto" and not clean["keep_unapplied"]
    for row, amount in zip(per_line, amounts):
        row["returned_to_voucher" if give_back else "unapplied"] = amount - row["applied"]
    total = sum(amounts)
    returned = sum(r["returned_to_voucher"] for r in per_line)
    undistributed = voucher.undistributed if voucher is not None else None
    return {"voucher_id": clean["voucher_id"],
            "voucher": payment_views.voucher_row(voucher, voucher.undistributed) if voucher is not None else None,
            "apply": clean["apply"], "keep_unapplied": clean["keep_unapplied"], "memo": clean["memo"],
            "lines": len(lines), "patients": len({ln["patient_id"] for ln in lines}), "total": total,
            "applied_total": sum(r["applied"] for r in per_line), "unapplied": sum(r["unapplied"] for r in per_line),
            "returned_to_voucher": returned, "drawn": total - returned, "splits_paid": len(allocations),
            "voucher_undistributed": undistributed,
            "voucher_undistributed_after": None if undistributed is None else undistributed - total + returned,
            "credits": per_line, "posted_before": posted_before,
            "refusals": [{"field": exc.field, "message": exc.message,
                          "kind": "not_found" if isinstance(exc, NotFound) else "refused"} for exc in refusals]}


def _charge_facts(charge_ids) -> dict[int, dict]:
    """charge -> its service code and date of service (ISO), one query."""
    if not charge_ids:
        return {}
    among, params = db.ids_in(sorted(charge_ids))
    rows = db.sql("SELECT c.id, sc.code, c.dos FROM charge c JOIN service_code sc ON sc.id = c.service_code_id"
                  f" WHERE c.id {among}", params)
    return {cid: {"service_code": code, "dos": str(dos)[:10]} for cid, code, dos in rows}
