"""A corpus of bad inputs through the core services: each gets a clear error naming a field,
and nothing is written (no journal entry, no audit event, no voucher, no credit)."""

from __future__ import annotations

import pytest

from claimdesk.core.errors import ClaimdeskError
from claimdesk.core.models import AuditEvent, Credit, JournalEntry, Posting, Voucher
from claimdesk.core.services import actions, eobs, messages, payments, returns

from tests import builders as b

BAD_AMOUNTS = ["1.234", "0.001", "NaN", "nan", "inf", "-inf", "Infinity", "-5.00", "-0.01", "1e3", "1E-2",
               "0x10", "", " ", "12,50", "$$12", "1.2.3", "99999999999", "10000000.01", "--1", "+-1",
               "1_000", "12.5.", ".", "-", "1 000", "½", "12.50abc", "'; DROP TABLE posting; --",
               "1,2345.00", 1.5, 0.1, True, [], {}, float("nan")]
BAD_IDS = [0, -1, "abc", 1.5, True, 2**63, "1; DROP TABLE patient", [], {}, "", " ", "1e3", 999_999]
BAD_DATES = ["2026-13-01", "2026-02-30", "yesterday", "1800-01-01", "3000-01-01", 20260101, "", "2026/01/01",
             "01/02/2026", "2026-1-1T99", [], "0000-00-00"]
BAD_TEXTS = ["\x00", "a" * 10_000, "\x1b[31mred", "bell\x07", "x" * 501]
UNKNOWN_KEYS = ["bitcoin", "", "CASH ", "../../etc/passwd", "x" * 300, "pay_cash", "Check"]
NOT_OBJECTS = [None, [], "text", 42, [{"payer_id": 1}], b"bytes"]


def _counts():
    return tuple(m.select().count() for m in (JournalEntry, Posting, AuditEvent, Voucher, Credit))


@pytest.fixture
def world(database):
    pat = b.patient()
    medicare = b.payer("Medicare", "medicare")
    enc, charges = b.encounter(pat, [100_00, 50_00], payers=[medicare])
    self_pay, _ = b.encounter(pat, [80_00])
    vid = b.voucher(medicare, 300_00)
    return {"patient": pat.id, "payer": medicare.id, "encounter": enc.id, "charge": charges[0].id, "voucher": vid,
            "self_pay": self_pay.id}


def _cases(w):
    """(service, data, expected field prefix or None when any field is fine)."""
    voucher = {"payer_id": w["payer"], "method": "check", "amount": "10.00", "details": {"check_number": "77"}}
    credit = {"patient_id": w["patient"], "voucher_id": w["voucher"], "amount": "10.00"}
    eob = {"encounter_id": w["encounter"], "payer_id": w["payer"], "voucher_id": w["voucher"],
           "lines": [{"charge_id": w["charge"], "paid": "10.00"}]}
    ret = {"voucher_id": w["voucher"], "reason": "NSF"}
    for a in BAD_AMOUNTS:
        yield payments.create_voucher, {**voucher, "amount": a}, "amount"
        yield payments.post_credit, {**credit, "amount": a}, "amount"
        yield eobs.post_eob, {**eob, "lines": [{"charge_id": w["charge"], "paid": a}]}, "lines"
        yield (lambda d: actions.apply(w["self_pay"], "patient_writeoff_office", d)), \
            {"amount": a, "reason": "COURTESY"}, "amount"
    for i in BAD_IDS:
        yield payments.create_voucher, {**voucher, "payer_id": i}, "payer_id"
        yield payments.post_credit, {**credit, "patient_id": i}, "patient_id"
        yield payments.post_credit, {**credit, "voucher_id": i}, "voucher_id"
        yield eobs.post_eob, {**eob, "encounter_id": i}, "encounter_id"
        yield returns.return_check, {**ret, "voucher_id": i}, "voucher_id"
        yield (lambda d, i=i: actions.assess(i)), {}, None
    for d in BAD_DATES:
        yield payments.create_voucher, {**voucher, "received_on": d}, "received_on"
        yield eobs.post_eob, {**eob, "received_on": d}, "received_on"
    for t in BAD_TEXTS:
        yield payments.create_voucher, {**voucher, "reference": t}, "reference"
        yield returns.return_check, {**ret, "reason": t}, "reason"
        yield payments.create_voucher, {**voucher, "details": {"check_number": t}}, "details"
    for k in UNKNOWN_KEYS:
        yield payments.create_voucher, {**voucher, "method": k}, "method"
        yield returns.return_check, {**ret, "fee_policy": k}, "fee_policy"
        yield (lambda d, k=k: actions.apply(w["encounter"], k, d)), {}, None
        yield (lambda d: actions.apply(w["self_pay"], "patient_writeoff_office", d)), \
            {"amount": "1.00", "reason": k}, "reason"
    for bad in NOT_OBJECTS:
        yield payments.create_voucher, bad, None
        yield payments.post_credit, bad, None
        yield eobs.post_eob, bad, None
        yield messages.answer, bad, None
    yield payments.create_voucher, {**voucher, "details": {}}, "details"
    yield payments.create_voucher, {**voucher, "amount": "0.00"}, "amount"
    yield payments.post_credit, {**credit, "amount": "300.01"}, "amount"
    yield eobs.post_eob, {**eob, "lines": []}, "lines"
    yield eobs.post_eob, {**eob, "lines": [{"charge_id": w["charge"], "adjustments": [
        {"group_code": "ZZ", "reason_code": "45", "amount": "1.00"}]}]}, "lines"
    yield eobs.post_eob, {**eob, "lines": [{"charge_id": w["charge"], "adjustments": [
        {"group_code": "CO", "reason_code": "'; --", "amount": "1.00"}]}]}, "lines"
    yield returns.return_check, {**ret, "fee_policy": "flat", "fee": {"amount": "25.00"}}, "fee"


def test_every_bad_input_is_refused_naming_a_field_and_nothing_is_written(world):
    before = _counts()
    tried, problems = 0, []
    for service, data, field in _cases(world):
        tried += 1
        try:
            service(data)
        except ClaimdeskError as exc:
            message = str(exc)
            if not message or "Traceback" in message:
                problems.append((service, data, "unclear message"))
            elif field is not None and not (exc.field or "").startswith(field):
                problems.append((getattr(service, "__name__", service), repr(data)[:80],
                                 f"field {exc.field!r}, expected {field!r}: {message[:80]}"))
        except Exception as exc:  # noqa: BLE001 - the point: nothing but a clear claimdesk error
            problems.append((getattr(service, "__name__", service), repr(data)[:80], repr(exc)[:120]))
        else:
            problems.append((getattr(service, "__name__", service), repr(data)[:80], "accepted"))
        if _counts() != before:
            problems.append((getattr(service, "__name__", service), repr(data)[:80], "wrote rows"))
            before = _counts()
    assert tried >= 200
    assert problems == [], "\n".join(map(str, problems))
