"""Refunds and recoupments: giving back money a patient or a payer holds on the books.

Money path (docs/ledger.md, "Refunds"):

  refund requested   Dr UNAPPLIED (a credit's money) or UNDISTRIBUTED (a voucher's)
                     / Cr REFUNDS_PAYABLE                         entry ``refund``
  refund issued      Dr REFUNDS_PAYABLE / Cr CASH                 entry ``refund_issue``
  recoupment held    as a refund requested                        entry ``refund``
  recoupment matched Dr REFUNDS_PAYABLE / Cr PAYER_LEVEL          entry ``recoupment_match``
  reversed           the reversal of the entries above, newest first

Every posting of a refund carries the voucher its money came from, so each voucher still
accounts for every cent it brought in (``verify``). A refund never exceeds what the account
holds: the sources are read locked and the ledger's guards refuse a credit or a voucher
going below zero. A refund above ``[refunds] supervisor_above`` (default 500.00) made by a
clerk waits, its money held in REFUNDS_PAYABLE (nobody can apply it meanwhile), until a
supervisor approves it; a supervisor's own refund is issued at once. Every action is one
audited workflow (``refund.add``, ``refund.approve``, ``refund.reverse``, ``refund.recoup``,
``refund.match``).

Which money is whose (the credit balance report, :mod:`.credit_balances`, uses the same
rules): a patient holds the unapplied money of their credits drawn from the pseudo payer
"Patient" (their own payments) and the undistributed money of a "Patient" voucher only they
drew from; a payer holds its vouchers' undistributed money and the unapplied money of its
credits (an overpaid claim kept on the patient's account).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from marshmallow import Schema, fields, validate

from claimdesk.core import clock, db, ledger, users, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import Credit, Encounter, Patient, Payer, Voucher
from claimdesk.core.models.refunds import PAYEES, Refund
from claimdesk.core.money import Cents, MoneyError, fmt, to_cents
from claimdesk.core.plugins.host import get_host
from claimdesk.core.validation import Id, Money, Text, load
from claimdesk.core.services.common import get, method_details

#: The default of ``[refunds] supervisor_above``: a clerk's refund above it waits for a supervisor.
DEFAULT_SUPERVISOR_ABOVE = 500_00
#: Statuses whose money is still held in REFUNDS_PAYABLE.
HELD = ("awaiting_approval", "awaiting_recoupment")
#: Entry kinds a refund posts.
REQUEST, ISSUE, MATCH = "refund", "refund_issue", "recoupment_match"
#: The 835 PLB reason code of an overpayment recovery (what a recoupment is matched with).
RECOUPMENT_REASONS = ("WO",)


# --- settings ---------------------------------------------------------------------------
def supervisor_above() -> int:
    """``[refunds] supervisor_above`` in cents (an amount in quotes, ``"500.00"``); a bad value is
    a :class:`~claimdesk.core.config.ConfigError` naming the file and the key."""
    from claimdesk.core import config

    path = config.config_path()
    reader = config._Reader(config.read_config_file(path), path)  # noqa: SLF001 - the core's own reader
    reader.table("refunds")
    value = reader.get("refunds.supervisor_above")
    if value is None:
        return DEFAULT_SUPERVISOR_ABOVE
    if not isinstance(value, str):
        reader.fail("refunds.supervisor_above", f'must be an amount in quotes like "500.00", got {value!r}')
    try:
        cents = to_cents(value)
    except MoneyError as exc:
        reader.fail("refunds.supervisor_above", str(exc))
    if cents < 0:
        reader.fail("refunds.supervisor_above", "must not be negative")
    return cents


# --- what an account holds ----------------------------------------------------------------
@dataclasses.dataclass
class Source:
    """Money one account holds in one place: a credit's unapplied money or a voucher's
    undistributed money, since ``since``."""

    kind: str  # credit | voucher
    id: int
    voucher_id: int
    payer_id: int
    patient_id: int | None
    amount: int
    since: dt.date

    def as_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "voucher_id": self.voucher_id, "payer_id": self.payer_id,
                "patient_id": self.patient_id, "amount": Cents(self.amount), "since": self.since.isoformat()}


def _patient_payer_id() -> int:
    return Payer.get(Payer.kind == "patient").id


def _sole_patients(voucher_ids: list[int]) -> dict[int, int]:
    """voucher id -> the one patient who drew from it (vouchers drawn by none or by several left out)."""
    if not voucher_ids:
        return {}
    out: dict[int, set[int]] = {}
    for vid, pid in Credit.select(Credit.voucher, Credit.patient).where(Credit.voucher.in_(voucher_ids)).tuples():
        out.setdefault(vid, set()).add(pid)
    return {vid: next(iter(pids)) for vid, pids in out.items() if len(pids) == 1}


def all_sources() -> list[Source]:
    """Every place money is held, oldest first: credits with unapplied money, active vouchers
    with undistributed money (a "Patient" voucher attributed to the one patient who drew from
    it, else to nobody: ``patient_id`` None)."""
    out = [Source("credit", cid, vid, payer, pid, amount, posted)
           for cid, vid, payer, pid, amount, posted in Credit.select(
               Credit.id, Credit.voucher, Credit.payer, Credit.patient, Credit.unapplied, Credit.posted_on)
           .where(Credit.unapplied > 0).tuples()]
    vouchers = list(Voucher.select(Voucher.id, Voucher.payer, Voucher.undistributed, Voucher.received_on)
                    .where((Voucher.undistributed > 0) & (Voucher.status == "active")).tuples())
    self_pay = _patient_payer_id()
    owners = _sole_patients([vid for vid, payer, _a, _d in vouchers if payer == self_pay])
    out += [Source("voucher", vid, vid, payer, owners.get(vid) if payer == self_pay else None, amount, received)
            for vid, payer, amount, received in vouchers]
    return sorted(out, key=lambda s: (s.since, s.kind, s.id))


def holder(source: Source, self_pay: int) -> tuple[str, int | None]:
    """Whose money a source is: ``("patient", id)`` or ``("payer", id)`` (``("payer", self_pay)``
    for a "Patient" voucher no single patient drew from)."""
    if source.payer_id == self_pay:
        return ("patient", source.patient_id) if source.patient_id is not None else ("payer", self_pay)
    return "payer", source.payer_id


def sources_of(payee: str, ident: int) -> list[Source]:
    """What a patient or a payer holds, oldest first."""
    self_pay = _patient_payer_id()
    return [s for s in all_sources() if holder(s, self_pay) == (payee, ident)]


# --- input --------------------------------------------------------------------------------
class RefundInput(Schema):
    payee = fields.String(required=True, validate=validate.OneOf(PAYEES))
    patient_id = Id(load_default=None, allow_none=True)
    payer_id = Id(load_default=None, allow_none=True)
    amount = Money(required=True, positive=True)
    method = fields.String(required=True, validate=validate.Length(min=1, max=40))
    details = fields.Dict(load_default=dict)
    reason = Text(required=True, min_length=1, max_length=200)
    reference = Text(max_length=60, load_default="")
    credit_id = Id(load_default=None, allow_none=True)
    voucher_id = Id(load_default=None, allow_none=True)


class RecoupInput(Schema):
    payer_id = Id(required=True)
    amount = Money(required=True, positive=True)
    reason = Text(required=True, min_length=1, max_length=200)
    claim_ref = Text(max_length=60, load_default="")
    encounter_id = Id(load_default=None, allow_none=True)
    credit_id = Id(load_default=None, allow_none=True)
    voucher_id = Id(load_default=None, allow_none=True)


class ReverseInput(Schema):
    refund_id = Id(required=True)
    reason = Text(required=True, min_length=1, max_length=200)


class OneRefund(Schema):
    refund_id = Id(required=True)


class MatchInput(Schema):
    refund_id = Id(required=True)
    voucher_id = Id(required=True)


def _payee_of(clean: dict) -> tuple[str, int]:
    payee = clean["payee"]
    field = f"{payee}_id"
    if clean.get(field) is None:
        raise InputError({field: [f"required to refund a {payee}"]})
    return payee, clean[field]


def _method(key: str, payee: str, details: dict) -> tuple[str, dict, str]:
    """The refund method plugin ``key`` (for ``payee``), its validated details and the reference
    they carry; refusals name ``method`` or ``details.<field>``."""
    host = get_host()
    method = host.get("claimdesk_refund_methods", key)
    if method is None:
        known = ", ".join(m.key for m in host.refund_methods()) or "none installed"
        raise InputError({"method": [f"unknown refund method {key!r} (known: {known})"]})
    if payee not in method.payees:
        can = ", ".join(m.key for m in host.refund_methods(payee))
        raise InputError({"method": [f"{method.label} cannot pay a {payee} back (for a {payee}: {can})"]})
    clean, ref = method_details(method, details)
    return method.key, clean, ref


def validate_refund(data: dict) -> tuple[dict, str, dict, str]:
    """A refund's input checked without touching the database: ``(clean, method, details,
    reference)``; :class:`InputError` naming the field."""
    clean = load(RefundInput, data)
    payee, _ident = _payee_of(clean)
    method, details, ref = _method(clean["method"], payee, clean["details"])
    return clean, method, details, ref


# --- choosing the money -------------------------------------------------------------------
def _chosen_sources(payee: str, ident: int, credit_id: int | None, voucher_id: int | None) -> list[Source]:
    """The sources a refund draws from: the one named (credit or voucher), refused unless it is
    the payee's; else everything the payee holds, oldest first. Locked rows (PostgreSQL)."""
    if credit_id is not None and voucher_id is not None:
        raise InputError({"credit_id": ["give a credit or a voucher, not both"]})
    held = sources_of(payee, ident)
    if credit_id is None and voucher_id is None:
        return held
    kind, key = ("credit", credit_id) if credit_id is not None else ("voucher", voucher_id)
    field = f"{kind}_id"
    model = Credit if kind == "credit" else Voucher
    get(model, key, kind, field=field, for_update=True)
    found = [s for s in held if s.kind == kind and s.id == key]
    if not found and kind == "voucher" and payee == "patient":
        found = _unclaimed_patient_voucher(key, ident)
    if not found:
        raise Refused(f"{kind} {key} holds no money of this {payee}'s", field=field)
    return found


def _unclaimed_patient_voucher(voucher_id: int, patient_id: int) -> list[Source]:
    """A "Patient" voucher no patient drew from (money received, never posted to an account),
    named for a patient's refund: the clerk says whose it is."""
    self_pay = _patient_payer_id()
    v = Voucher.get_by_id(voucher_id)
    drawn = Credit.select().where(Credit.voucher == voucher_id).exists()
    if v.payer_id != self_pay or v.status != "active" or v.undistributed <= 0 or drawn:
        return []
    return [Source("voucher", v.id, v.id, v.payer_id, patient_id, v.undistributed, v.received_on)]


def _lock(sources: list[Source]) -> None:
    """Lock the sources' rows for the rest of the transaction (PostgreSQL; SQLite holds the write
    lock) and read their money again under the lock."""
    for s in sources:
        model = Credit if s.kind == "credit" else Voucher
        row = get(model, s.id, s.kind, field=f"{s.kind}_id", for_update=True)
        s.amount = row.unapplied if s.kind == "credit" else row.undistributed


def _take(sources: list[Source], amount: int, who: str) -> list[tuple[Source, int]]:
    """``amount`` taken from ``sources`` in order, partial on the last; refused beyond what they hold."""
    _lock(sources)
    available = sum(s.amount for s in sources)
    if amount > available:
        held = f"holds only {fmt(available)}" if available else "holds no money"
        raise Refused(f"{fmt(amount)} is more than {who} can be refunded: {who} {held}", field="amount")
    out, left = [], amount
    for s in sources:
        take = min(s.amount, left)
        if take > 0:
            out.append((s, take))
            left -= take
    return out


def _who(payee: str, ident: int) -> str:
    if payee == "patient":
        p = Patient.get_by_id(ident)
        return f"patient {p.account_no} ({p.last_name}, {p.first_name})"
    return f"payer {Payer.get_by_id(ident).name}"


def _request_lines(taken: list[tuple[Source, int]], payee: str, ident: int) -> list[ledger.Line]:
    lines = []
    for s, take in taken:
        patient_id = ident if payee == "patient" else s.patient_id
        if s.kind == "credit":
            credit = Credit.get_by_id(s.id)
            lines.append(ledger.unapplied(credit, take))
        else:
            lines.append(ledger.Line("UNDISTRIBUTED", take, voucher_id=s.voucher_id, payer_id=s.payer_id,
                                     patient_id=patient_id))
        lines.append(ledger.Line("REFUNDS_PAYABLE", -take, voucher_id=s.voucher_id, payer_id=s.payer_id,
                                 patient_id=patient_id))
    return lines


def _held_by_voucher(refund: Refund) -> dict[int, tuple[int, int | None, int | None]]:
    """voucher id -> (cents, payer id, patient id) the refund's request entry moved to REFUNDS_PAYABLE."""
    out: dict[int, list] = {}
    for vid, amount, payer, patient in db.sql(
            "SELECT voucher_id, amount, payer_id, patient_id FROM posting WHERE entry_id = {p} "
            "AND account = 'REFUNDS_PAYABLE' ORDER BY id", [refund.request_entry_id]):
        slot = out.setdefault(vid, [0, payer, patient])
        slot[0] += -int(amount)
    return {vid: (a, payer, patient) for vid, (a, payer, patient) in out.items()}


def _settle(refund: Refund, account: str, kind: str, memo: str, reason_code: str = "") -> int:
    """Post the entry paying the held money out of REFUNDS_PAYABLE to ``account`` (CASH: issued;
    PAYER_LEVEL: recouped), per voucher it came from; its id."""
    lines = []
    for vid, (amount, payer, patient) in _held_by_voucher(refund).items():
        lines += [ledger.Line("REFUNDS_PAYABLE", amount, voucher_id=vid, payer_id=payer, patient_id=patient),
                  ledger.Line(account, -amount, voucher_id=vid, payer_id=payer, patient_id=patient,
                              reason_code=reason_code)]
    entry = ledger.post(kind, lines, memo=memo, user=current_user(), patient_id=refund.patient_id,
                        encounter_id=refund.encounter_id)
    return entry.id


def _row(r: Refund) -> dict:
    """One refund as lists and results show it."""
    payee_name = ""
    if r.payee == "patient" and r.patient_id:
        p = Patient.get_by_id(r.patient_id)
        payee_name = f"{p.last_name}, {p.first_name}"
    elif r.payer_id:
        payee_name = Payer.get_by_id(r.payer_id).name
    return {"refund_id": r.id, "kind": r.kind, "status": r.status, "payee": r.payee, "patient_id": r.patient_id,
            "payer_id": r.payer_id, "payee_name": payee_name, "amount": Cents(r.amount), "method": r.method,
            "reference": r.reference, "reason": r.reason, "claim_ref": r.claim_ref,
            "requested_on": r.requested_at.date().isoformat() if r.requested_at else None,
            "requested_by": r.requested_by, "approved_by": r.approved_by,
            "issued_on": r.issued_on.isoformat() if r.issued_on else None,
            "recouped_by_voucher": r.recouped_by_id, "reverse_reason": r.reverse_reason}


# --- workflows ----------------------------------------------------------------------------
def add_refund(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow ``refund.add``: give back ``amount`` of what a patient or a payer holds, by a
    refund method plugin, with a reason. Above ``[refunds] supervisor_above`` a clerk's refund
    waits for a supervisor (its money held); otherwise it is issued at once."""
    clean, method, details, ref = validate_refund(data)
    payee, ident = _payee_of(clean)
    limit = supervisor_above()

    def body():
        get(Patient if payee == "patient" else Payer, ident, payee, field=f"{payee}_id")
        if payee == "payer" and ident == _patient_payer_id():
            raise Refused("the pseudo payer Patient holds patients' money: refund the patient (naming the voucher "
                          "of a patient's check never posted to an account)", field="payer_id")
        who = _who(payee, ident)
        taken = _take(_chosen_sources(payee, ident, clean["credit_id"], clean["voucher_id"]), clean["amount"], who)
        user = current_user()
        memo = f"refund to {who}: {clean['reason']}"
        request = ledger.post(REQUEST, _request_lines(taken, payee, ident), memo=memo, user=user,
                              patient_id=ident if payee == "patient" else None)
        now = clock.now()
        refund = Refund.create(
            kind="refund", status="awaiting_approval", payee=payee,
            patient=ident if payee == "patient" else None,
            payer=ident if payee == "payer" else None,
            amount=clean["amount"], method=method, details=details, reference=clean["reference"] or ref,
            reason=clean["reason"], requested_at=now, requested_by=user, request_entry=request.id)
        approval = clean["amount"] > limit
        if not approval or users.has_role("supervisor"):
            _issue(refund, memo)
        return {**_row(refund), "needs_approval": refund.status == "awaiting_approval",
                "supervisor_above": Cents(limit),
                "sources": [{**s.as_dict(), "taken": Cents(t)} for s, t in taken]}

    return workflow.run("refund.add", body, inputs={**clean, "details": details}, reason=clean["reason"],
                        patient_id=ident if payee == "patient" else None, idempotency_key=idempotency_key)


def preview_refund(data: dict) -> dict:
    """What :func:`add_refund` would do with ``data`` (the same checks, the same sources taken,
    whether it waits for a supervisor), with nothing written: the confirmation can say it."""
    return db.rolled_back(add_refund, data)


def _issue(refund: Refund, memo: str) -> None:
    refund.settle_entry = _settle(refund, "CASH", ISSUE, memo)
    refund.status = "issued"
    refund.approved_by = current_user()
    refund.approved_at = clock.now()
    refund.issued_on = clock.today()
    refund.save()


def _refund(refund_id, *, for_update: bool = True) -> Refund:
    return get(Refund, refund_id, "refund", field="refund_id", for_update=for_update)


def approve(refund_id, *, idempotency_key: str | None = None) -> dict:
    """Workflow ``refund.approve``: a supervisor approves a refund above the limit; it is issued."""
    clean = load(OneRefund, {"refund_id": refund_id})

    def body():
        refund = _refund(clean["refund_id"])
        if refund.status != "awaiting_approval":
            raise Refused(f"refund {refund.id} is {refund.status.replace('_', ' ')}, not awaiting approval",
                          field="refund_id")
        users.require_role("supervisor", f"approving refund {refund.id} of {fmt(refund.amount)}")
        who = _who(refund.payee, refund.patient_id if refund.payee == "patient" else refund.payer_id)
        _issue(refund, f"refund to {who} approved: {refund.reason}")
        return _row(refund)

    return workflow.run("refund.approve", body, inputs=clean, idempotency_key=idempotency_key)


def reverse(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow ``refund.reverse``: undo a refund (a refund check voided, a request refused, a
    recoupment the payer will not take): its entries reversed, newest first, so the money is
    back where it was held. A recoupment already matched is refused (the payer took it)."""
    clean = load(ReverseInput, data)

    def body():
        refund = _refund(clean["refund_id"])
        if refund.status == "reversed":
            raise Refused(f"refund {refund.id} was already reversed on {refund.reversed_at:%Y-%m-%d}",
                          field="refund_id")
        if refund.status == "recouped":
            raise Refused(f"recoupment {refund.id} was taken back by the payer on voucher {refund.recouped_by_id}; "
                          "it cannot be reversed", field="refund_id")
        entries = [e for e in (refund.settle_entry_id, refund.request_entry_id) if e is not None]
        ledger.reverse_many(entries, memo=f"refund {refund.id} reversed: {clean['reason']}", user=current_user())
        refund.status = "reversed"
        refund.reversed_at = clock.now()
        refund.reversed_by = current_user()
        refund.reverse_reason = clean["reason"]
        refund.save()
        return _row(refund)

    return workflow.run("refund.reverse", body, inputs=clean, reason=clean["reason"], idempotency_key=idempotency_key)


def recoup(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow ``refund.recoup``: a payer's overpayment the payer will take back from a later
    check instead of a refund. Its money is held in REFUNDS_PAYABLE until the later 835's PLB
    WO recoupment is matched to it (:func:`match_recoupment`)."""
    clean = load(RecoupInput, data)

    def body():
        payer = get(Payer, clean["payer_id"], "payer", field="payer_id")
        if not payer.is_insurance:
            raise Refused(f"{payer.name} is not an insurer; only an insurer recoups from a later check",
                          field="payer_id")
        encounter = None
        if clean["encounter_id"] is not None:
            encounter = get(Encounter, clean["encounter_id"], "encounter", field="encounter_id")
        claim_ref = clean["claim_ref"] or (encounter.claim_no or "" if encounter else "")
        who = _who("payer", payer.id)
        taken = _take(_chosen_sources("payer", payer.id, clean["credit_id"], clean["voucher_id"]), clean["amount"], who)
        user = current_user()
        memo = f"recoupment by {payer.name}{' of claim ' + claim_ref if claim_ref else ''}: {clean['reason']}"
        request = ledger.post(REQUEST, _request_lines(taken, "payer", payer.id), memo=memo, user=user,
                              encounter_id=encounter.id if encounter else None)
        refund = Refund.create(
            kind="recoupment", status="awaiting_recoupment", payee="payer", payer=payer.id,
            encounter=encounter.id if encounter else None, amount=clean["amount"], reason=clean["reason"],
            claim_ref=claim_ref, reference=claim_ref, requested_at=clock.now(), requested_by=user,
            request_entry=request.id)
        return {**_row(refund), "sources": [{**s.as_dict(), "taken": Cents(t)} for s, t in taken]}

    return workflow.run("refund.recoup", body, inputs=clean, reason=clean["reason"],
                        encounter_id=clean["encounter_id"], idempotency_key=idempotency_key)


def recovered_on(voucher_id: int) -> tuple[int, int]:
    """``(recovered, matched)``: the cents the payer kept from ``voucher_id`` as overpayment
    recovery (835 PLB WO: PAYER_LEVEL debits), and the cents of recoupments already matched to it."""
    where, params = db.texts_in(list(RECOUPMENT_REASONS))
    kept = db.sql("SELECT COALESCE(SUM(amount), 0) FROM posting WHERE account = 'PAYER_LEVEL' AND voucher_id = {p} "
                  f"AND amount > 0 AND reason_code {where}", [voucher_id, *params]).fetchone()[0]
    matched = db.sql("SELECT COALESCE(SUM(amount), 0) FROM refund WHERE recouped_by_id = {p} AND status = 'recouped'",
                     [voucher_id]).fetchone()[0]
    return int(kept), int(matched)


def match_recoupment(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow ``refund.match``: the payer's later check (a voucher, usually from an 835) took the
    recoupment back (a PLB WO, a PAYER_LEVEL debit on that voucher): the held money is carried
    to it (Dr REFUNDS_PAYABLE / Cr PAYER_LEVEL on the vouchers the money came from), so across
    the two checks the payer-level money nets to zero. Refused unless the check is the same
    payer's and still has that much recovery not matched to another recoupment."""
    clean = load(MatchInput, data)

    def body():
        refund = _refund(clean["refund_id"])
        if refund.kind != "recoupment" or refund.status != "awaiting_recoupment":
            raise Refused(f"refund {refund.id} is not a recoupment awaiting the payer's check "
                          f"({refund.kind}, {refund.status.replace('_', ' ')})", field="refund_id")
        voucher = get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
        if voucher.payer_id != refund.payer_id:
            raise Refused(f"voucher {voucher.id} is another payer's", field="voucher_id")
        kept, matched = recovered_on(voucher.id)
        if kept - matched < refund.amount:
            raise Refused(f"voucher {voucher.id} recovered {fmt(kept - matched)} not yet matched (PLB WO), less than "
                          f"the recoupment's {fmt(refund.amount)}", field="voucher_id")
        _match(refund, voucher)
        return _row(refund)

    return workflow.run("refund.match", body, inputs=clean, idempotency_key=idempotency_key)


def _match(refund: Refund, voucher: Voucher) -> None:
    """Carry a held recoupment to the payer's check that took it back (inside a transaction)."""
    refund.settle_entry = _settle(refund, "PAYER_LEVEL", MATCH,
                                  f"recoupment {refund.id} taken back on voucher {voucher.id}", reason_code="WO")
    refund.status = "recouped"
    refund.recouped_by = voucher.id
    refund.issued_on = clock.today()
    refund.save()


def match_plb(voucher: Voucher, adjustments) -> list[dict]:
    """The 835 import's side (inside its payment's workflow, after the PLB was received): each PLB
    WO (overpayment recovery, ``reason``/``reference``/``amount`` cents) whose reference names the
    claim of a recoupment of this payer awaiting it, for exactly its amount, matches it; each PLB
    and each recoupment once, oldest recoupment first. What was matched."""
    if not db.database.table_exists("refund"):
        return []
    waiting = list(Refund.select().where((Refund.payer == voucher.payer_id) & (Refund.kind == "recoupment")
                                         & (Refund.status == "awaiting_recoupment") & (Refund.claim_ref != ""))
                   .order_by(Refund.id))
    out = []
    for a in adjustments:
        if a.reason not in RECOUPMENT_REASONS or a.amount <= 0 or not a.reference:
            continue
        found = next((r for r in waiting if r.amount == a.amount and r.claim_ref in str(a.reference).split()
                      + [str(a.reference)]), None)
        if found is None:
            continue
        waiting.remove(found)
        _match(found, voucher)
        out.append({"refund_id": found.id, "claim_ref": found.claim_ref, "amount": Cents(found.amount),
                    "voucher_id": voucher.id})
    return out


def recoupment_candidates(refund_id) -> list[dict]:
    """The payer's vouchers that could have taken recoupment ``refund_id`` back: PLB WO recovery
    not yet matched of at least its amount, those whose 835 PLB reference names its claim first."""
    refund = _refund(refund_id, for_update=False)
    if refund.kind != "recoupment":
        raise Refused(f"refund {refund.id} is not a recoupment", field="refund_id")
    out = []
    for v in Voucher.select().where((Voucher.payer == refund.payer_id)).order_by(Voucher.id):
        kept, matched = recovered_on(v.id)
        if kept - matched < refund.amount:
            continue
        names = False
        if refund.claim_ref:  # (the 835 import writes each PLB as "WO:<reference>" in the voucher's memo)
            names = db.sql("SELECT 1 FROM posting p JOIN journal_entry e ON e.id = p.entry_id WHERE p.voucher_id = {p} "
                           "AND p.account = 'PAYER_LEVEL' AND e.memo LIKE {p}",
                           [v.id, f"%WO:{refund.claim_ref}%"]).fetchone() is not None
        if refund.claim_ref and not names and db.database.table_exists("era_payment"):
            from claimdesk.core.models.remits import RemitPayment

            for pay in RemitPayment.select().where(RemitPayment.voucher == v.id):
                names = names or any(str(a.get("reference", "")).startswith(refund.claim_ref)
                                     for a in pay.provider_adjustments or [])
        out.append({"voucher_id": v.id, "received_on": v.received_on.isoformat(), "recovered": Cents(kept),
                    "matched": Cents(matched), "names_claim": names})
    return sorted(out, key=lambda c: (not c["names_claim"], c["voucher_id"]))


def refuse_return_with_refunds(voucher_id: int) -> None:
    """A returned check reverses every entry that moved its money; a refund (or recoupment) of
    that money not reversed first would be undone behind its back: refused, naming it."""
    if not db.database.table_exists("refund"):
        return
    found = [r for (r,) in db.sql(
        "SELECT DISTINCT r.id FROM refund r JOIN posting p ON p.entry_id = r.request_entry_id "
        "WHERE p.voucher_id = {p} AND p.account = 'REFUNDS_PAYABLE' AND r.status <> 'reversed' ORDER BY r.id",
        [voucher_id])]
    if found:
        listed = ", ".join(map(str, found))
        raise Refused(f"voucher {voucher_id}'s money was refunded or is held for a refund (refund {listed}): "
                      f"reverse the refund first (`claimdesk refund reverse`)", field="voucher_id")


# --- reads --------------------------------------------------------------------------------
def list_refunds(status: str | None = None, *, patient_id=None, payer_id=None, limit: int = 200) -> list[dict]:
    """Refunds newest first (optionally one status, one patient's or one payer's)."""
    q = Refund.select()
    if status:
        if status not in ("awaiting_approval", "issued", "awaiting_recoupment", "recouped", "reversed"):
            raise InputError({"status": [f"unknown status {status!r}"]})
        q = q.where(Refund.status == status)
    if patient_id is not None:
        q = q.where(Refund.patient == get(Patient, patient_id, "patient", field="patient_id").id)
    if payer_id is not None:
        q = q.where(Refund.payer == get(Payer, payer_id, "payer", field="payer_id").id)
    return [_row(r) for r in q.order_by(Refund.id.desc()).limit(limit)]


def show(refund_id) -> dict:
    """One refund with the journal entries that moved its money."""
    refund = _refund(refund_id, for_update=False)
    return {**_row(refund), "request_entry": refund.request_entry_id, "settle_entry": refund.settle_entry_id,
            "details": refund.details}


def methods(payee: str | None = None) -> list[dict]:
    """The refund methods installed (plugins), in menu order."""
    return [{"key": m.key, "label": m.label, "payees": list(m.payees),
             "fields": list(m.schema._declared_fields) if m.schema is not None else []}
            for m in get_host().refund_methods(payee)]


__all__ = ["add_refund", "approve", "reverse", "recoup", "match_recoupment", "recoupment_candidates",
           "list_refunds", "show", "methods", "sources_of", "all_sources", "supervisor_above",
           "preview_refund", "match_plb", "refuse_return_with_refunds"]
