"""Random sequences of billing work never break the books (hypothesis stateful testing).

Charges, vouchers, credits with auto and manual apply, unapplied money applied
later, EOB postings with payments / contractual adjustments / patient
responsibility / denials, write-offs through the advanced actions and returned
checks, in any order. After every step: ``verify()`` is clean, the money the
model expects is what the ledger holds, and a refused step wrote nothing.

The quick profile runs in CI; ``CLAIMDESK_LONG=1`` runs the long profile
(see docs/reliability.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import Bundle, consumes, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from peewee import fn

from claimdesk.core import db, migrations
from claimdesk.core.context import as_user
from claimdesk.core.errors import ClaimdeskError
from claimdesk.core.models import Credit, JournalEntry, Payer, Posting, Voucher
from claimdesk.core.services.common import patient_payer
from claimdesk.core.services import actions, balances, eobs, payments, returns
from claimdesk.core.money import as_json as _money
from claimdesk.core.services.verify import verify

from tests import builders as b
from tests.conftest import new_database_url, register

LONG = os.environ.get("CLAIMDESK_LONG") == "1"
# the long profile can be split across cores: CLAIMDESK_LONG_RUNS=280 in two processes, figures summed
LONG_RUNS = int(os.environ.get("CLAIMDESK_LONG_RUNS", "560"))
PROFILE = settings(max_examples=LONG_RUNS if LONG else 12, stateful_step_count=250 if LONG else 40, deadline=None,
                   suppress_health_check=list(HealthCheck), derandomize=not LONG, database=None)

cents = st.integers(min_value=1, max_value=400_00)


def _account(name: str) -> int:
    return int(Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).where(Posting.account == name).scalar())


def _open_splits(encounter_id: int) -> list:
    from claimdesk.core.models import Charge, ChargeSplit

    return list(ChargeSplit.select().join(Charge)
                .where((Charge.encounter == encounter_id) & (ChargeSplit.balance > 0)))


class Books(RuleBasedStateMachine):
    """The model: fees charged and cash held on active vouchers.

    Each example (one random sequence of steps) runs on a database of its own, so
    ``verify`` after every step costs the same at step 250 of run 400 as at step 1.
    """

    new_url = None  # set by the test: gives the URL of a fresh, upgraded database
    kinds_seen: set = set()
    tally = {"runs": 0, "steps": 0, "refused": 0, "verified": 0}

    patients = Bundle("patients")
    encounters = Bundle("encounters")
    vouchers = Bundle("vouchers")

    def __init__(self):
        super().__init__()
        db.connect(Books.new_url())
        migrations.upgrade()
        register("tester")
        self._user = as_user("tester")
        self._user.__enter__()

    def teardown(self):
        Books.tally["runs"] += 1
        Books.tally["refused"] += self.refused
        Books.kinds_seen |= {k for (k,) in JournalEntry.select(JournalEntry.kind).distinct().tuples()}
        self._user.__exit__(None, None, None)
        db.close()

    @initialize()
    def setup(self):
        self.fees = _account("REVENUE") * -1
        self.cash = _account("CASH")
        self.payers = [b.payer("Medicare", "medicare"), b.payer("Aetna")]
        self.office = b.provider("Office", "administrative")
        b.code("RCFEE", 25_00)
        self.refused = 0

    # -- helpers -------------------------------------------------------------
    def _attempt(self, fn_, *args):
        """Run a workflow; a refusal must leave the ledger untouched."""
        Books.tally["steps"] += 1
        before = JournalEntry.select().count()
        try:
            return fn_(*args)
        except ClaimdeskError:
            self.refused += 1
            assert JournalEntry.select().count() == before, "a refused workflow wrote journal entries"
            return None

    # -- rules -----------------------------------------------------------------
    @rule(target=patients)
    def new_patient(self):
        return b.patient().id

    @rule(target=encounters, patient=patients, fees=st.lists(st.integers(0, 300_00), min_size=1, max_size=3),
          insurers=st.integers(0, 2), month=st.integers(1, 10))
    def new_encounter(self, patient, fees, insurers, month):
        from claimdesk.core.models import Patient

        enc, _ = b.encounter(Patient.get_by_id(patient), fees, payers=self.payers[:insurers],
                             dos=dt.date(2026, month, 5))
        self.fees += sum(fees)
        return enc.id

    @rule(target=vouchers, amount=cents, insurer=st.booleans())
    def new_voucher(self, amount, insurer):
        vid = b.voucher(self.payers[0] if insurer else patient_payer(), amount)
        self.cash += amount
        return vid

    @rule(patient=patients, voucher=vouchers, amount=st.none() | cents, keep=st.booleans())
    def post_credit_auto(self, patient, voucher, amount, keep):
        data = {"patient_id": patient, "voucher_id": voucher, "keep_unapplied": keep}
        if amount is not None:
            data["amount"] = _money(amount)
        self._attempt(payments.post_credit, data)

    @rule(encounter=encounters, voucher=vouchers, amount=cents)
    def post_credit_manual(self, encounter, voucher, amount):
        from claimdesk.core.models import Charge, Encounter

        enc = Encounter.get_by_id(encounter)
        charge = Charge.select().where(Charge.encounter == enc).first()
        self._attempt(payments.post_credit, {
            "patient_id": enc.patient_id, "voucher_id": voucher, "amount": _money(amount), "apply": "manual",
            "applications": [{"charge_id": charge.id}], "keep_unapplied": True})

    @rule(patient=patients)
    def apply_unapplied(self, patient):
        credit = Credit.select().where((Credit.patient == patient) & (Credit.unapplied > 0)).first()
        if credit is not None:
            self._attempt(payments.apply_unapplied, {"credit_id": credit.id, "patient_id": patient})

    @rule(encounter=encounters, paid=st.integers(0, 100), co=st.integers(0, 100), pr=st.integers(0, 100),
          denied=st.booleans())
    def post_eob(self, encounter, paid, co, pr, denied):
        """A remit from the insurer whose turn it is on the first charge; paid, CO and PR are
        percentages of that insurer's open balance (together they may exceed it: refused)."""
        from claimdesk.core.models import Charge, ChargeSplit

        charge = Charge.select().where(Charge.encounter == encounter).first()
        split = (ChargeSplit.select().where((ChargeSplit.charge == charge) & (ChargeSplit.balance > 0)
                                            & (ChargeSplit.rank != "patient")).first())
        payer_id = split.payer_id if split else self.payers[0].id
        open_ = split.balance if split else 100_00
        paid, co, pr = (open_ * share // 100 for share in (paid, co, pr))
        voucher = None
        if paid:  # the payer's check for this remit
            voucher = b.voucher(Payer.get_by_id(payer_id), paid)
            self.cash += paid
        adjustments = [{"group_code": g, "reason_code": r, "amount": _money(a)}
                       for g, r, a in (("CO", "45", co), ("PR", "2", pr)) if a]
        self._attempt(eobs.post_eob, {
            "encounter_id": encounter, "payer_id": payer_id, "voucher_id": voucher,
            "lines": [{"charge_id": charge.id, "paid": _money(paid), "adjustments": adjustments,
                       "denied": denied and not paid, "denial_code": "CO50" if denied and not paid else ""}]})

    @rule(encounter=encounters, amount=cents)
    def office_writeoff(self, encounter, amount):
        offered = {o["key"] for o in actions.assess(encounter)["offers"]}
        if "patient_writeoff_office" in offered:
            self._attempt(actions.apply, encounter, "patient_writeoff_office",
                          {"amount": _money(amount), "reason": "COURTESY"})

    @rule(encounter=encounters, key=st.sampled_from([
        "primary_invalid", "secondary_invalid", "self_pay", "add_primary", "primary_denied_bill_patient",
        "non_billable", "billable", "insurance_writeoff", "negotiate_balance"]),
        share=st.integers(0, 100), reason=st.sampled_from(["CO45", "CO29", "OA23"]))
    def advanced_action(self, encounter, key, share, reason):
        """Any of the money-moving advanced actions, when the assessment offers it."""
        offered = {o["key"] for o in actions.assess(encounter)["offers"]}
        if key not in offered:
            return
        data = {"confirm": True, "reason": "random work"}
        if key == "add_primary":
            data = {"payer_id": self.payers[1].id, "member_id": "M123"}
        elif key == "primary_denied_bill_patient":
            data = {"confirm": True}
        elif key == "insurance_writeoff":
            charge_ids = sorted({s.charge_id for s in _open_splits(encounter) if s.rank != "patient"})[:2]
            data = {"lines": [{"charge_id": c, "reason": reason} for c in charge_ids]}
        elif key == "negotiate_balance":
            owed = sum(s.balance for s in _open_splits(encounter) if s.rank == "patient")
            data = {"final_balance": _money(owed * share // 100), "note": "agreed by phone"}
        self._attempt(actions.apply, encounter, key, data)

    @rule(voucher=consumes(vouchers), fee=st.booleans())
    def return_check(self, voucher, fee):
        v = Voucher.get_by_id(voucher)
        patients = {c.patient_id for c in Credit.select().where(Credit.voucher == voucher)}
        data = {"voucher_id": voucher, "reason": "NSF"}
        if fee and len(patients) == 1:
            data.update(fee_policy="flat", fee={"service_code": "RCFEE", "amount": "25.00",
                                                "provider_id": self.office.id})
        res = self._attempt(returns.return_check, data)
        if res is not None:
            self.cash -= v.amount
            self.fees += res["fee"]

    # -- invariants ------------------------------------------------------------
    @invariant()
    def books_are_clean(self):
        assert verify() == []
        Books.tally["verified"] += 1

    @invariant()
    def ledger_holds_what_the_model_expects(self):
        assert -_account("REVENUE") == self.fees
        assert _account("CASH") == self.cash
        undistributed = sum(balances.voucher_undistributed(v.id) for v in Voucher.select())
        assert undistributed == -_account("UNDISTRIBUTED") >= 0


def test_random_billing_work_keeps_the_books_balanced(backend, request, tmp_path):
    runs = itertools.count(1)
    Books.new_url = lambda: new_database_url(backend, request, tmp_path / f"run{next(runs)}", upgraded=True)
    Books.kinds_seen = set()
    Books.tally = dict.fromkeys(Books.tally, 0)
    run_state_machine_as_test(Books, settings=PROFILE)
    print(f"\n{backend}: {Books.tally['runs']} runs, {Books.tally['verified']} steps verified, "
          f"{Books.tally['steps']} workflows tried, {Books.tally['refused']} refused")
    # the random work really moved money, not only refusals
    assert {"charge", "voucher", "credit", "payment", "reversal:voucher"} <= Books.kinds_seen
