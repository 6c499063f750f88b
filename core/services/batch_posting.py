"""Batch posting: one payer check (voucher) spread over many patients, as a lockbox or
ERA file arrives, in ONE workflow (one transaction, one audit event).

The result is the same, to the cent, as posting every line one after the other with
:func:`claimdesk.core.services.payments.post_credit` (``apply="auto"``, or ``"none"``):

- each line becomes a :class:`~claimdesk.core.models.Credit` of that patient, drawn from
  the voucher (the voucher must hold enough undistributed money for the whole batch,
  else nothing is written);
- with auto-apply, a line pays that patient's open splits the voucher's payer is
  responsible for, oldest first (date of service, charge, split: the order of
  :func:`~claimdesk.core.services.payments.auto_plan`), partial on the last; lines of
  the same patient apply in file order, each seeing what the earlier ones consumed;
- what a line cannot apply goes back to the voucher, unless ``keep_unapplied`` (with
  ``apply="none"`` nothing is applied and everything stays unapplied, as in post_credit);
- an insurance split paid to zero queues the next insurer's claim
  (:func:`claimdesk.core.services.claims.advance`), as post_credit does.

Money path (accounts of docs/ledger.md), one journal entry per kind for the whole batch:

  ``credit``         Dr UNDISTRIBUTED (voucher, the batch total) / Cr UNAPPLIED (one line per credit)
  ``payment``        Dr UNAPPLIED / Cr AR, a pair per application (credit split), with the
                     split's charge, patient and payer on both lines
  ``credit_return``  Dr UNAPPLIED (one line per credit with money left) / Cr UNDISTRIBUTED (voucher)

Every posting keeps its patient / credit / split / voucher dimensions, so each
patient's ledger (read from postings), ``claimdesk verify`` and returned checks (which
reverse every entry that touched the voucher) work as for single credits. An entry
names the patient only when the whole batch is one patient's.

Set-based: the voucher (locked), all patients, and the open splits the money can reach
(a running total per patient, in SQL) are read in a few chunked queries; allocations
are computed in Python; credits and credit splits are multi-row ``INSERT ... RETURNING``;
the three entries go through :func:`claimdesk.core.ledger.post`, which keeps the cached
balances with its below-zero guards.

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
from collections import defaultdict
from pathlib import Path
from typing import Callable

from marshmallow import Schema, ValidationError, fields, validate

from claimdesk.core import clock, db, ledger, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import ClaimdeskError, InputError, NotFound, Refused, flatten_messages
from claimdesk.core.models import INSURANCE_RANKS, ChargeSplit, Credit, CreditSplit, Payer, Voucher
from claimdesk.core.money import fmt
from claimdesk.core.validation import Id, Money, Text, load
from claimdesk.core.services import claims
from claimdesk.core.services.payments import reachable_splits
from claimdesk.core.services.common import get

#: Most lines one batch takes (a lockbox file is usually hundreds to a few thousand).
MAX_LINES = 100_000
#: Ids per ``IN (...)`` / rows per multi-row ``INSERT`` (under SQLite's and psycopg's parameter limits).
CHUNK = 1000


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

    def __init__(self, lines: list, name: str, places: list[str]):
        super().__init__(lines)
        self.name = name
        self.places = places

    def where(self, index: int) -> str:
        """``"row 7 of era.csv"`` (CSV rows counted from the header line) or ``"item 3 of lines.json"``."""
        place = self.places[index] if 0 <= index < len(self.places) else f"line {index + 1}"
        return f"{place} of {self.name}"

    def locate(self, exc: ClaimdeskError) -> ClaimdeskError:
        """``exc`` with the file row added to every message about ``lines.N...``; ``exc``
        itself when it names no line."""
        def placed(field, message: str) -> str:
            m = re.match(r"lines\.(\d+)(\.|$)", str(field or ""))
            return f"{message} ({self.where(int(m.group(1)))})" if m else message

        if isinstance(exc, InputError):
            if not any(re.match(r"lines\.\d+(\.|$)", str(k)) for k in exc.messages):
                return exc
            return InputError({k: [placed(k, str(m)) for m in (v if isinstance(v, list) else [v])]
                               for k, v in exc.messages.items()})
        if not re.match(r"lines\.\d+(\.|$)", exc.field or ""):
            return exc
        return type(exc)(placed(exc.field, exc.message), field=exc.field)


def read_lines(path: str) -> LineFile:
    """The lines of a batch file: ``.csv`` with a header naming ``patient_id,amount[,memo]``
    (other columns ignored; a row with more fields than the header is refused, as an
    unquoted ``1,000.00`` would be), or ``.json``: a list of ``{"patient_id", "amount",
    "memo"}`` or ``{"lines": [...]}``. A file that cannot be read raises
    :class:`InputError` on ``file``, naming the row when one row is at fault."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError({"file": [f"cannot read {path!r}: {exc.strerror}"]}) from None
    except UnicodeDecodeError:
        raise InputError({"file": [f"{path!r} is not UTF-8 text"]}) from None
    if file.suffix.lower() == ".json":
        try:
            doc = json.loads(text, parse_float=str)
        except json.JSONDecodeError as exc:
            raise InputError({"file": [f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"]}) from None
        lines = doc.get("lines") if isinstance(doc, dict) else doc
        if not isinstance(lines, list):
            raise InputError({"file": ["a JSON batch is a list of lines or {\"lines\": [...]}"]})
        return LineFile(lines, file.name, [f"item {i + 1}" for i in range(len(lines))])
    if file.suffix.lower() != ".csv":
        raise InputError({"file": [f"{path!r}: use a .csv or .json file"]})
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
    return LineFile(lines, file.name, places)


def _summary(clean: dict) -> dict:
    """What the audit trail records: the voucher, the line count and total, and a digest of
    the lines (so a retried submit with other lines under the same key is refused)."""
    lines = clean["lines"]
    canon = json.dumps([[ln["patient_id"], ln["amount"], ln["memo"]] for ln in lines], separators=(",", ":"))
    return {"voucher_id": clean["voucher_id"], "lines": len(lines), "total": sum(ln["amount"] for ln in lines),
            "patients": len({ln["patient_id"] for ln in lines}), "apply": clean["apply"],
            "keep_unapplied": clean["keep_unapplied"], "memo": clean["memo"],
            "lines_sha256": hashlib.sha256(canon.encode()).hexdigest()}


# --- SQL helpers ----------------------------------------------------------------------
def _chunks(items: list, size: int | None = None):
    size = size or CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _marks(n: int) -> str:
    return ", ".join(["{p}"] * n)


def _existing_patients(ids: list[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(r[0] for r in db.sql(f"SELECT id FROM patient WHERE id IN ({_marks(len(chunk))})", chunk))
    return found


# --- the workflow ---------------------------------------------------------------------
#: The steps ``progress`` counts: checked, drawn, applied, remainders settled, claims queued.
STEPS = 4


def post_credit_batch(data: dict, *, idempotency_key: str | None = None,
                      progress: Callable[[int, int], None] | None = None) -> dict:
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
    """
    clean = validate_batch(data)
    inputs = _summary(clean)
    patients = {ln["patient_id"] for ln in clean["lines"]}
    return workflow.run("credit.post_batch", lambda: _post(clean, progress), inputs=inputs,
                        patient_id=next(iter(patients)) if len(patients) == 1 else None,
                        idempotency_key=idempotency_key)


def _post(clean: dict, progress: Callable[[int, int], None] | None = None) -> dict:
    step = progress or (lambda _done, _total: None)
    lines = clean["lines"]
    total = sum(ln["amount"] for ln in lines)
    voucher = get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
    if voucher.status != "active":
        raise Refused(f"voucher {voucher.id} was returned; it cannot fund credits", field="voucher_id")
    if total > voucher.undistributed:
        raise Refused(f"the batch totals {fmt(total)} but voucher {voucher.id} has only "
                      f"{fmt(voucher.undistributed)} undistributed", field="voucher_id")
    first_line: dict[int, int] = {}
    for i, ln in enumerate(lines):
        first_line.setdefault(ln["patient_id"], i)
    missing = set(first_line) - _existing_patients(list(first_line))
    if missing:
        i = min(first_line[p] for p in missing)
        raise NotFound(f"no patient with id {lines[i]['patient_id']}", field=f"lines.{i}.patient_id")
    step(0, STEPS)

    payer_id, user, now = voucher.payer_id, current_user(), clock.now()
    single = next(iter(first_line)) if len(first_line) == 1 else None
    cf = Credit._meta.fields
    const = {"payer": payer_id, "voucher": voucher.id, "method": voucher.method,
             "keep_unapplied": cf["keep_unapplied"].db_value(clean["keep_unapplied"]), "unapplied": 0,
             "posted_on": cf["posted_on"].db_value(now.date()), "created_at": cf["created_at"].db_value(now),
             "created_by": user}
    names = ("patient", "payer", "voucher", "method", "keep_unapplied", "unapplied", "posted_on", "memo",
             "created_at", "created_by")
    rows = [(ln["patient_id"], const["payer"], const["voucher"], const["method"], const["keep_unapplied"], 0,
             const["posted_on"], ln["memo"] or clean["memo"], const["created_at"], user) for ln in lines]
    # ids come in insertion order (one statement, one writer per row): sorted = line order
    credit_ids = sorted(r[0] for r in db.insert_returning(Credit, names, rows, "id", chunk=CHUNK))

    # 1. draw: the whole batch leaves the voucher, each credit holds its line's amount
    Line = ledger.Line
    draw = [Line("UNDISTRIBUTED", total, voucher_id=voucher.id, payer_id=payer_id)]
    draw += [Line("UNAPPLIED", -ln["amount"], credit_id=cid, voucher_id=voucher.id,
                  patient_id=ln["patient_id"], payer_id=payer_id) for ln, cid in zip(lines, credit_ids)]
    ledger.post("credit", draw, memo=clean["memo"] or f"batch of {len(lines)} credits from voucher {voucher.id}",
                user=user, patient_id=single)
    step(1, STEPS)

    # 2. auto-apply, oldest first per patient, in line order
    left = [ln["amount"] for ln in lines]
    plan: list[tuple[int, int, list, int]] = []  # (line index, credit id, split row, amount)
    if clean["apply"] == "auto":
        need: dict[int, int] = defaultdict(int)
        for ln in lines:
            need[ln["patient_id"]] += ln["amount"]
        open_by_patient = reachable_splits(payer_id, need)
        cursor: dict[int, int] = defaultdict(int)  # patient -> first split with money still open
        for i, (ln, cid) in enumerate(zip(lines, credit_ids)):
            pid, avail = ln["patient_id"], ln["amount"]
            splits, k = open_by_patient.get(pid, ()), cursor[pid]
            while avail > 0 and k < len(splits):
                split = splits[k]
                take = min(split[2], avail)
                plan.append((i, cid, split, take))
                split[2] -= take
                avail -= take
                if split[2] == 0:
                    k += 1
            cursor[pid] = k
            left[i] = avail
    applied_by_line = [0] * len(lines)
    if plan:
        cs_rows = [(cid, split[1], split[0], const["created_at"]) for _i, cid, split, _a in plan]
        made = db.insert_returning(CreditSplit, ("credit", "charge", "split", "created_at"),
                                   cs_rows, "id, credit_id, split_id", chunk=CHUNK)
        cs_id = {(c, s): i for i, c, s in made}
        pay = []
        for i, cid, split, amount in plan:
            sid, charge_id, pid = split[0], split[1], lines[i]["patient_id"]
            csid = cs_id[(cid, sid)]
            pay.append(Line("UNAPPLIED", amount, split_id=sid, charge_id=charge_id, patient_id=pid,
                            payer_id=payer_id, credit_id=cid, voucher_id=voucher.id, credit_split_id=csid))
            pay.append(Line("AR", -amount, split_id=sid, charge_id=charge_id, patient_id=pid,
                            payer_id=payer_id, credit_split_id=csid))
            applied_by_line[i] += amount
        ledger.post("payment", pay, memo=f"batch credits from voucher {voucher.id} applied", user=user,
                    patient_id=single)
    step(2, STEPS)

    # 3. what a line could not apply goes back to the voucher (unless kept, or not applying at all)
    returned = [0] * len(lines)
    if clean["apply"] == "auto" and not clean["keep_unapplied"]:
        back = [Line("UNAPPLIED", left[i], credit_id=cid, voucher_id=voucher.id,
                     patient_id=lines[i]["patient_id"], payer_id=payer_id)
                for i, cid in enumerate(credit_ids) if left[i]]
        if back:
            back_total = sum(ln.amount for ln in back)
            back.append(Line("UNDISTRIBUTED", -back_total, voucher_id=voucher.id, payer_id=payer_id))
            ledger.post("credit_return", back, memo=f"batch remainders back to voucher {voucher.id}",
                        user=user, patient_id=single)
            returned, left = left, [0] * len(lines)
    step(3, STEPS)

    # 4. an insurance split paid to zero: the next insurer's claim goes out (as post_credit does)
    _advance_claims({split[0]: split for _i, _c, split, _a in plan if split[2] == 0})
    step(STEPS, STEPS)

    undistributed = db.sql("SELECT undistributed FROM voucher WHERE id = {p}", [voucher.id]).fetchone()[0]
    credits = [{"line": i, "credit_id": cid, "patient_id": ln["patient_id"], "amount": ln["amount"],
                "applied": applied_by_line[i], "unapplied": left[i], "returned_to_voucher": returned[i]}
               for i, (ln, cid) in enumerate(zip(lines, credit_ids))]
    applied_total = sum(applied_by_line)
    return {"voucher_id": voucher.id, "payer_id": payer_id, "payer": Payer.get_by_id(payer_id).name,
            "lines": len(lines), "patients": len(first_line), "total": total,
            "drawn": total - sum(returned), "applied_total": applied_total,
            "splits_paid": len(plan), "unapplied": sum(left), "returned_to_voucher": sum(returned),
            "voucher_undistributed": int(undistributed), "credit_ids": credit_ids, "credits": credits}


def _advance_claims(zeroed: dict[int, list]) -> None:
    """Call :func:`claims.advance` for the insurance splits this batch paid to zero that
    have a later insurer's split with balance on the same charge (the only ones it can
    queue; one query finds them)."""
    candidates = {sid: s for sid, s in zeroed.items() if s[3] in INSURANCE_RANKS[:-1]}
    if not candidates:
        return
    later: dict[int, set[str]] = defaultdict(set)
    charges = sorted({s[1] for s in candidates.values()})
    for chunk in _chunks(charges):
        for charge_id, rank in db.sql(f"SELECT charge_id, rank FROM charge_split WHERE charge_id IN "
                                    f"({_marks(len(chunk))}) AND balance > 0 AND rank IN ({{p}}, {{p}})",
                                    chunk + list(INSURANCE_RANKS[1:])):
            later[charge_id].add(rank)
    for sid in sorted(candidates):
        split = candidates[sid]
        after = set(INSURANCE_RANKS[INSURANCE_RANKS.index(split[3]) + 1:])
        if later.get(split[1], set()) & after:
            claims.advance(ChargeSplit(id=sid))
