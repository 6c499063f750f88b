"""Posting payers' 835 remittances (issue 16): the 837P claims the clinic imported, then the
payer's 835 for them, leave every patient's balance right to the cent; the same file again
changes nothing; claims that do not balance, do not match or were posted before wait in the
exceptions queue with their reason (their money undistributed on the voucher); a payment that
does not balance is refused whole; denials, crossovers, informational claims, reversals with
their corrections, PLB adjustments and a negative adjustment each post as a billing clerk
expects; ``verify`` stays clean. Both engines."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from claimdesk.core.context import as_user
from claimdesk.core.models import (
    Charge,
    ChargeSplit,
    Claim,
    Credit,
    Encounter,
    Eob,
    EobLine,
    JournalEntry,
    Payer,
    Posting,
    Voucher,
)
from claimdesk.core.models.remits import RemitClaim, RemitFile, RemitPayment
from claimdesk.core.money import MAX_CENTS, Cents, fmt
from claimdesk.core.services import balances, claim_import, era_exceptions, era_import, reference_data, verify
from claimdesk.core.x12.remittance import Adjustment, ClaimPayment
from claimdesk.core.x12.remittance import Payer as RemitPayer

from tests.conftest import register
from tests.test_x12_remits835 import pyx12_errors
from tests.x12gen import make_claims, write_837p
from tests.x12gen835 import PAID_ON, make_remittances, payer_of, remittances_by_payer, write_835

TABLES = (Voucher, Credit, Eob, EobLine, JournalEntry, Posting, RemitFile, RemitPayment, RemitClaim, Claim)


def counts() -> dict:
    return {m.__name__: m.select().count() for m in TABLES}


def load_claims(count: int = 12, **options):
    """``count`` generated 837P claims imported (the clinic's own claims, marked sent)."""
    claims = make_claims(count, seed=3, dependants=True, **options)
    report = claim_import.import_files([("claims.837", write_837p(claims))])
    assert len(report.files[0].imported) == count
    return claims


def post(text: str, name: str = "remit.835", *, dry_run: bool = False):
    return era_import.import_files([(name, text)], dry_run=dry_run)


def pr(claim: ClaimPayment) -> int:
    """The patient responsibility (PR) a claim's CAS give, claim and lines."""
    return sum(a.amount for a in [*claim.adjustments, *(a for s in claim.lines for a in s.adjustments)]
               if a.group == "PR")


def encounter_of(claim_no: str) -> Encounter:
    return Encounter.get(Encounter.claim_no == claim_no)


def due(claim_no: str) -> balances.PatientBalance:
    return balances.patient_balance(encounter_of(claim_no).patient_id)


def assert_clean() -> None:
    assert [str(v) for v in verify.verify()] == []


def test_a_payment_posts_every_claim_and_leaves_each_balance_right_to_the_cent(database):
    claims = load_claims(12)
    remittances = remittances_by_payer(claims)
    report = post(write_835(remittances))

    assert report.ok and [p.status for p in report.payments] == ["posted"] * len(remittances)
    for remittance, payment in zip(remittances, report.payments):
        voucher = Voucher.get_by_id(payment.voucher_id)
        assert (voucher.amount, voucher.undistributed, voucher.reference) == (remittance.amount, 0,
                                                                            remittance.trace_number)
        assert voucher.method == "eft" and voucher.received_on == PAID_ON
        assert payment.tallies == {"post": len(remittance.claims)}
        for claim in remittance.claims:
            money = due(claim.claim_number)
            assert money.patient_due == pr(claim), claim.claim_number  # PR became the patient's balance
            assert money.insurance_pending == 0
            eob = Eob.get(Eob.encounter == encounter_of(claim.claim_number))
            assert sum(line.paid for line in eob.lines) == claim.paid
            assert eob.claim_ref == claim.payer_claim_number
    assert_clean()


def test_the_same_file_again_changes_nothing_and_says_where_each_payment_went(database):
    load_claims(8)
    text = write_835(remittances_by_payer(make_claims(8, seed=3, dependants=True)))
    first = post(text)
    before = counts()
    again = post(text)
    assert counts() == before
    assert {p.status for p in again.payments} == {"already"}
    assert again.files[0].already.startswith("this file was imported on ")
    voucher = first.payments[0].voucher_id
    assert f"as voucher {voucher}" in again.payments[0].reason and "remit.835" in again.payments[0].reason
    # the same payment inside another file is refused too
    third = post(text.replace("ISA*00", "ISA*00", 1) + "\n", name="copy.835")
    assert {p.status for p in third.payments} == {"already"} and counts() == before


def test_a_preview_plans_the_same_and_writes_nothing(database):
    claims = load_claims(6)
    text = write_835(remittances_by_payer(claims, unbalanced=(0,)))
    before = counts()
    preview = post(text, dry_run=True)
    assert counts() == before
    assert {p.status for p in preview.payments} == {"preview"}
    posted = post(text)
    assert [[(c.claim_no, c.action, c.reason) for c in p.claims] for p in preview.payments] == \
           [[(c.claim_no, c.action, c.reason) for c in p.claims] for p in posted.payments]


def test_claims_that_do_not_balance_wait_as_exceptions_and_their_money_stays_on_the_voucher(database):
    claims = load_claims(6)
    remittances = remittances_by_payer(claims, unbalanced=(0,), unbalanced_lines=(1,))
    report = post(write_835(remittances))
    assert report.ok  # (the payments balance: BPR02 counts the bad claims' money)
    exceptions = [(p, c) for p in report.payments for c in p.claims if c.action == "exception"]
    assert exceptions
    for payment, row in exceptions:
        assert "does not balance" in row.reason and "(off by -0.01)" in row.reason and "line " in row.reason
        assert row.line > 0 and row.eob_id is None
        assert Voucher.get_by_id(payment.voucher_id).undistributed == payment.undistributed > 0
        encounter = encounter_of(row.claim_no)
        assert encounter.queue.key == "era_exceptions"
        assert Eob.select().where(Eob.encounter == encounter).count() == 0
        assert due(row.claim_no).insurance_pending > 0  # still the payer's
    waiting = era_exceptions.open_exceptions()
    assert sorted(r["claim_no"] for r in waiting) == sorted(c.claim_no for _p, c in exceptions)
    first = waiting[0]
    assert first["voucher_id"] and first["claim"]["lines"]
    out = era_exceptions.resolve(first["id"], {"reason": "posted by hand from the paper EOB"})
    assert out["left_queue"] and encounter_of(first["claim_no"]).queue_id is None
    assert era_exceptions.count_open() == len(waiting) - 1
    assert_clean()


def test_a_payment_that_does_not_balance_is_refused_whole_and_nothing_is_written(database):
    claims = load_claims(4)
    before = counts()
    report = post(write_835(remittances_by_payer(claims, payment_error=1)))
    assert not report.ok and {p.status for p in report.payments} == {"refused"}
    assert "does not balance" in report.payments[0].reason and "BPR02" in report.payments[0].reason
    assert counts() == before


def test_a_value_longer_than_x12_allows_refuses_its_payment_by_element_on_either_engine(database):
    # (on PostgreSQL a long trace or claim number once reached the database, which refused it with
    # an error of its own, "value too long", instead of the payment being refused by name)
    claims = load_claims(12)
    first, second, *rest = remittances_by_payer(claims)
    assert rest
    long_trace = dataclasses.replace(first, trace_number="T" * 51,
                                     payer=dataclasses.replace(first.payer, name="ACME\u202eHEALTH"))
    long_claim = dataclasses.replace(second, claims=(dataclasses.replace(second.claims[0], payer_claim_number="X" * 300),
                                                     *second.claims[1:]))
    before = counts()
    report = post(write_835([long_trace, long_claim]))
    assert [p.status for p in report.payments] == ["refused", "refused"]
    assert report.payments[0].reason.startswith("TRN02 is 51 characters long; X12 allows at most 50: segment TRN")
    assert report.payments[1].reason.startswith("CLP07 is 300 characters long; X12 allows at most 50: segment CLP")
    # each still named as far as its TRN, BPR and N1*PR can be read: which check it is
    assert [(p.trace_number, p.amount, p.payer_name) for p in report.payments] == [
        ("T" * 51, first.amount, "ACME\\u202eHEALTH"), (second.trace_number, second.amount, second.payer.name)]
    assert counts() == before
    report = post(write_835([dataclasses.replace(first, trace_number="T" * 50), *rest]), name="fixed.835")
    assert {p.status for p in report.payments} == {"posted"}
    assert_clean()


def scaled(value, factor: int):
    """``value`` (a remittance, claim, line...) with every amount in it ``factor`` times larger."""
    if isinstance(value, Cents):
        return Cents(value * factor)
    if dataclasses.is_dataclass(value):
        return dataclasses.replace(value, **{f.name: scaled(getattr(value, f.name), factor)
                                             for f in dataclasses.fields(value) if f.init})
    return tuple(scaled(v, factor) for v in value) if isinstance(value, tuple) else value


def test_an_amount_above_what_claimdesk_accepts_refuses_its_payment_on_either_engine(database):
    # (an amount past the ledger's integers once crashed the posting: "bigint out of range" on
    # PostgreSQL, OverflowError on SQLite; a $20 million charge was posted as it came)
    claims = load_claims(12)
    first, second, *_ = remittances_by_payer(claims)
    huge = scaled(first, 10**15)  # 18-digit dollar amounts, valid X12
    claim = second.claims[0]
    typo = dataclasses.replace(claim, charge=claim.charge + 20_000_000_00,
                               adjustments=(*claim.adjustments, Adjustment("CO", "45", Cents(20_000_000_00))))
    assert typo.refusal is None  # (it balances: only its size is wrong)
    before = counts()
    report = post(write_835([huge, dataclasses.replace(second, claims=(typo, *second.claims[1:]))]))
    assert [p.status for p in report.payments] == ["refused", "refused"]
    assert report.payments[0].reason.startswith(
        f"BPR02 {fmt(huge.amount)} is more than claimdesk accepts in one amount ({fmt(MAX_CENTS)}): segment BPR")
    assert report.payments[1].reason.startswith(
        f"CLP03 {fmt(typo.charge)} is more than claimdesk accepts in one amount ({fmt(MAX_CENTS)}): segment CLP")
    assert counts() == before
    assert_clean()


def test_declared_delimiters_a_stray_component_separator_and_no_payer_contact_are_read(database):
    claims = load_claims(6)
    remittances = remittances_by_payer(claims, missing_per=True)
    report = post(write_835(remittances, component_used=">"))
    assert report.ok and report.count("post") == 6
    assert report.files[0].warnings  # the undeclared separator is reported, not refused
    assert_clean()


def test_plb_adjustments_post_to_the_payer_so_each_voucher_balances_to_bpr02(database):
    claims = load_claims(8)
    remittances = remittances_by_payer(claims, plb=True)
    report = post(write_835(remittances))
    for remittance, payment in zip(remittances, report.payments):
        voucher = Voucher.get_by_id(payment.voucher_id)
        assert voucher.amount == remittance.amount  # BPR02: the claims less WO and FB, plus L6 interest
        assert voucher.undistributed == 0
        kept = {p.reason_code: p.amount for p in Posting.select().where(
            (Posting.account == "PAYER_LEVEL") & (Posting.voucher == voucher.id))}
        assert kept == {"WO": 2500, "L6": -347, "FB": 1000}
        assert [a["reason"] for a in payment.provider_adjustments] == ["WO", "L6", "FB"]
    assert_clean()


def test_a_line_paid_above_its_charge_posts_its_negative_adjustment(database):
    claims = load_claims(4)
    remittances = remittances_by_payer(claims, negative=True)
    report = post(write_835(remittances))
    assert report.count("post") == 4
    first = remittances[0].claims[0]
    assert due(first.claim_number).patient_due == pr(first) and due(first.claim_number).insurance_pending == 0
    negative = Posting.select().where((Posting.account == "CONTRACTUAL") & (Posting.amount < 0)).count()
    assert negative == len(remittances)  # (one such line per payer's payment)
    assert_clean()


def test_denials_crossovers_and_informational_claims(database):
    claims = load_claims(20, next_payer=True)
    remittances = remittances_by_payer(claims, statuses=True)
    report = post(write_835(remittances))
    rows = {c.claim_no: c for p in report.payments for c in p.claims}
    by_status = {}
    for remittance in remittances:
        for claim in remittance.claims:
            by_status.setdefault(claim.status, []).append(claim)

    for claim in by_status["4"]:  # denied: balance kept, lines flagged, the encounter routed
        row = rows[claim.claim_number]
        assert row.action == "deny"
        encounter = encounter_of(claim.claim_number)
        assert encounter.queue.key == row.queue
        splits = ChargeSplit.select().join(Charge).where(Charge.encounter == encounter)
        assert all(s.denied and s.denial_code == "CO-29" for s in splits if s.balance)
        assert due(claim.claim_number).insurance_pending == claim.charge
    for status in ("23", "25"):  # no money, recorded
        for claim in by_status.get(status, []):
            assert rows[claim.claim_number].action == "informational"
            assert Eob.select().where(Eob.encounter == encounter_of(claim.claim_number)).count() == 0
    for status in ("2", "3", "20", "21"):  # the payer says a rank it does not hold on file
        for claim in by_status.get(status, []):
            assert rows[claim.claim_number].action == "exception"
            assert "but it is the primary payer" in rows[claim.claim_number].reason
    crossed = [c for c in by_status["19"] if rows[c.claim_number].action == "post"]
    assert all(rows[c.claim_number].crossed_over for c in crossed)
    with_next = {c.number for c in claims if c.next_payer}
    for claim in crossed:  # the payer forwarded it: the clinic's own secondary claim is not queued
        queued = Claim.select().where((Claim.encounter == encounter_of(claim.claim_number))
                                      & (Claim.rank == "secondary")).count()
        assert queued == 0
    for claim in by_status["1"]:
        if claim.claim_number in with_next and pr(claim):  # paid as primary: the secondary is now due
            assert Claim.select().where((Claim.encounter == encounter_of(claim.claim_number))
                                        & (Claim.rank == "secondary") & (Claim.status == "queued")).count() == 1
    assert_clean()


def test_a_reversal_takes_back_the_earlier_payment_and_its_correction_posts(database):
    claims = load_claims(8)
    first = remittances_by_payer(claims)
    post(write_835(first))
    original = first[0].claims[0]
    second = remittances_by_payer(claims, reversal=True)
    report = post(write_835(second, control_number=2), name="second.835")
    payment = report.payments[0]
    reversal, correction = payment.claims[0], payment.claims[1]
    assert (reversal.action, reversal.status) == ("reverse", "22") and reversal.reverses is not None
    assert correction.action == "post"
    redo = second[0].claims[1]
    money = due(original.claim_number)
    assert money.patient_due == pr(redo) and money.insurance_pending == 0  # as if only the correction was paid
    eob_paid = {e.id: sum(ln.paid for ln in e.lines) for e in Eob.select().where(
        Eob.encounter == encounter_of(original.claim_number))}
    assert sorted(eob_paid.values()) == sorted([original.paid, redo.paid])
    # the money taken back paid the correction: this check's undistributed is what its duplicates left
    voucher = Voucher.get_by_id(payment.voucher_id)
    carried = sum(p.amount for p in Posting.select().where((Posting.account == "PAYER_LEVEL")
                                                         & (Posting.voucher == voucher.id)))
    assert carried == original.paid
    assert voucher.undistributed == payment.undistributed
    assert_clean()
    # a second reversal of the same payment finds nothing left to take back
    again = dataclasses.replace(second[0], trace_number="NEWTRACE1", claims=second[0].claims[:1],
                                amount=Cents(-original.paid))
    before = counts()
    refused = post(write_835([again], control_number=3), name="third.835").payments[0]
    assert refused.status == "refused" and "takes back" in refused.reason and counts() == before


def test_a_claim_number_the_clinic_never_sent_matches_by_member_dates_and_lines_or_waits(database):
    claims = load_claims(4)
    (remittance,) = remittances_by_payer(claims[:1])
    renamed = dataclasses.replace(remittance.claims[0], claim_number="PAYERS-OWN-1")
    stranger = dataclasses.replace(remittance.claims[0], claim_number="PAYERS-OWN-2",
                                   insured=dataclasses.replace(remittance.claims[0].member_name(), id="NOBODY")
                                   if hasattr(remittance.claims[0], "member_name") else None,
                                   patient=dataclasses.replace(remittance.claims[0].patient, id="NOBODY"))
    text = write_835([dataclasses.replace(remittance, claims=(renamed, stranger),
                                          amount=Cents(renamed.paid + stranger.paid))])
    rows = post(text).payments[0].claims
    assert rows[0].action == "post" and rows[0].encounter_id == encounter_of(claims[0].number).id
    assert rows[1].action == "exception" and "no patient has member id NOBODY" in rows[1].reason
    assert_clean()


def test_a_claim_posted_from_another_file_is_an_exception_there(database):
    claims = load_claims(2)
    (remittance,) = remittances_by_payer(claims[:1])
    post(write_835([remittance]))
    copy = dataclasses.replace(remittance, trace_number="SECONDCOPY")
    row = post(write_835([copy], control_number=2), name="copy.835").payments[0].claims[0]
    assert row.action == "exception" and "already posted from ERA payment" in row.reason
    assert_clean()


def secondary_835(first, primary, encounter, left: dict[int, int]) -> str:
    """The secondary's 835 for ``primary``'s claim: OA-23 for what the primary dealt with, 80% of
    what it left paid, PR the rest (``left``: the secondary's split balance per charge)."""
    lines = []
    for line in first.claims[0].lines:
        charge = Charge.get((Charge.encounter == encounter) & (Charge.control_no == line.control_number))
        owed = left[charge.id]
        paid = owed * 80 // 100
        cas = tuple(a for a in (Adjustment("OA", "23", line.charge - owed), Adjustment("PR", "2", owed - paid))
                    if a.amount)
        lines.append(dataclasses.replace(line, paid=Cents(paid), adjustments=cas, amounts=()))
    paid = sum(s.paid for s in lines)
    claim = dataclasses.replace(first.claims[0], status="2", paid=Cents(paid), adjustments=(), lines=tuple(lines),
                                payer_claim_number="SEC1", patient_responsibility=Cents(sum(
                                    a.amount for s in lines for a in s.adjustments if a.group == "PR")))
    second = dataclasses.replace(first, trace_number="SEC-TRACE", amount=Cents(paid), claims=(claim,),
                                 payer=payer_of(primary.next_payer.payer), provider_adjustments=())
    return write_835([second], control_number=2, sender_id="SECOND"), claim


def test_a_secondary_paid_before_its_primary_waits_and_posts_on_retry_once_the_primary_is_in(database):
    claims = load_claims(6, next_payer=True)
    primary = next(c for c in claims if c.next_payer)
    (first,) = make_remittances(claims=[primary], seed=1)
    encounter = encounter_of(primary.number)
    # what the secondary will owe once the primary's answer is in: its PR
    left = {}
    for line in first.claims[0].lines:
        charge = Charge.get((Charge.encounter == encounter) & (Charge.control_no == line.control_number))
        left[charge.id] = sum(a.amount for a in line.adjustments if a.group == "PR")
    text, claim = secondary_835(first, primary, encounter, left)
    row = post(text, name="secondary.835").payments[0].claims[0]
    assert row.action == "exception" and "earlier payer's payment not posted yet" in row.reason
    assert encounter_of(primary.number).queue.key == "era_exceptions"
    post(write_835([first]))
    again = post(text, name="secondary.835")  # without retry: the same payment posts nothing
    assert again.payments[0].status == "already"
    retried = era_import.import_files([("secondary.835", text)], retry=True).payments[0]
    assert retried.status == "retried" and [c.action for c in retried.claims] == ["post"]
    money = due(primary.number)
    assert money.insurance_pending == 0 and money.patient_due == pr(claim)
    assert encounter_of(primary.number).queue_id is None and era_exceptions.count_open() == 0
    nothing = era_import.import_files([("secondary.835", text)], retry=True).payments[0]
    assert nothing.status == "already" and "none of its claims waits" in nothing.reason
    assert_clean()


def test_a_secondary_pays_what_the_primary_left_and_the_patient_owes_the_rest(database):
    claims = load_claims(6, next_payer=True)
    primary = next(c for c in claims if c.next_payer)
    (first,) = make_remittances(claims=[primary], seed=1)
    post(write_835([first]))
    encounter = encounter_of(primary.number)
    left = {s.charge_id: s.balance for s in ChargeSplit.select().join(Charge).where(
        (Charge.encounter == encounter) & (ChargeSplit.rank == "secondary"))}
    assert sum(left.values()) == pr(first.claims[0]) > 0
    assert Claim.select().where((Claim.encounter == encounter) & (Claim.rank == "secondary")).count() == 1
    text, claim = secondary_835(first, primary, encounter, left)
    row = post(text, name="secondary.835").payments[0].claims[0]
    assert row.action == "post", row.reason
    money = due(primary.number)
    assert money.insurance_pending == 0 and money.patient_due == pr(claim)
    assert_clean()


@pytest.mark.parametrize("options", [{}, {"statuses": True, "plb": True, "negative": True}, {"reversal": True}])
def test_generated_835_files_are_valid_x12(options):
    text = write_835(remittances_by_payer(make_claims(12, seed=3, dependants=True, next_payer=True), **options))
    assert pyx12_errors(text) == []


def test_the_cli_posts_and_lists_exceptions(cli, tmp_path):
    claims = make_claims(4, seed=3, dependants=True)
    (tmp_path / "claims.837").write_text(write_837p(claims))
    cli.ok("import", "837", str(tmp_path / "claims.837"))
    (tmp_path / "remit.835").write_text(write_835(remittances_by_payer(claims, unbalanced=(0,))))
    preview = cli.json("era", "import", "--dry-run", str(tmp_path / "remit.835"))
    assert preview["dry_run"] and preview["claims"]["exception"] == 4  # (claim 0 of each payer's payment)
    out = cli.ok("era", "import", str(tmp_path / "remit.835"))
    assert "posted as voucher" in out and "exceptions (to the ERA exceptions queue):" in out
    listed = cli.json("era", "exceptions")["exceptions"]
    assert len(listed) == 4 and all("does not balance" in r["reason"] for r in listed)
    code, again, _ = cli("era", "import", str(tmp_path / "remit.835"))
    assert code == 0 and "already posted" in again
    out = cli.ok("era", "resolve", str(listed[0]["id"]), "--reason", "posted by hand")
    assert "resolved" in out


@pytest.mark.parametrize("day, problem", [
    (dt.date(2099, 1, 1), "must be at most a year after today"),
    (dt.date(1850, 6, 30), "must be on or after 1900-01-01, got 1850-06-30"),
])
def test_a_payment_dated_outside_the_business_window_is_refused(database, day, problem):
    """BPR16 is the date the voucher and its EOBs were received: the window a clerk's typed date
    is held to holds for it too (a damaged file or the payer's typo)."""
    claims = load_claims(4)
    remittance = dataclasses.replace(remittances_by_payer(claims)[0], date=day)
    before = counts()
    (payment,) = post(write_835([remittance])).payments
    assert payment.status == "refused" and payment.reason.startswith(f"BPR16, the payment's date, {problem}")
    assert "segment BPR (segment" in payment.reason
    assert counts() == before



def test_a_wrapped_835_and_837p_post_as_the_files_they_are(database):
    """A payer or clearinghouse that delivers X12 in lines of 80 characters, cutting segments (the
    ISA too), and pads the file with NULs: the claims import and the payments post as from the
    unwrapped files, and the reports say the file was wrapped."""
    def wrapped(text: str) -> str:
        flat = text.replace("~\n", "~")
        return "\r\n".join(flat[i:i + 80] for i in range(0, len(flat), 80)) + "\r\n" + "\0" * 64

    claims = make_claims(8, seed=3, dependants=True)
    imported = claim_import.import_files([("claims.837", wrapped(write_837p(claims)))]).files[0]
    assert len(imported.imported) == 8 and any("(a wrapped file)" in w for w in imported.warnings)
    remittances = remittances_by_payer(claims)
    report = post(wrapped(write_835(remittances)))
    assert report.ok and [p.status for p in report.payments] == ["posted"] * len(remittances)
    assert any("lines of 80 characters" in w for w in report.files[0].warnings)
    for claim in (c for r in remittances for c in r.claims):
        assert due(claim.claim_number).patient_due == pr(claim)
    assert_clean()


def test_a_payer_is_found_by_the_other_ids_its_remittances_carry(database):
    """A payer whose 835s carry no REF*2U, or another id than the one its claims go to: each id
    the payment carries is tried (REF*2U, N1*PR04, TRN03); none on file refuses the payment,
    saying which ids it carries and how to give one to the payer; given, the payment posts."""
    claims = load_claims(6)
    first, second = remittances_by_payer(claims)[:2]
    bare = dataclasses.replace(first, payer=RemitPayer(first.payer.name))  # no REF*2U, no N1*PR04: TRN03 only
    (refused,) = post(write_835([bare])).payments
    assert refused.status == "refused"
    assert refused.reason.startswith(f"no payer on file has the payer id {first.trace_payer_id} (TRN03)")
    assert f"claimdesk payer edit ID --remit-ids {first.trace_payer_id}" in refused.reason

    register("boss", role="supervisor")
    payer = Payer.get(Payer.payer_code == first.payer.payer_id)
    with as_user("boss"):
        reference_data.edit_payer(payer.id, {"remit_ids": first.trace_payer_id})
    (posted,) = post(write_835([bare])).payments
    assert (posted.status, posted.payer_id) == ("posted", payer.id)

    other = Payer.get(Payer.payer_code == second.payer.payer_id)
    named = dataclasses.replace(second, payer=RemitPayer(second.payer.name, "XV", "PLAN77"), trace_payer_id="")
    with as_user("boss"):
        reference_data.edit_payer(other.id, {"remit_ids": "plan77"})
    (posted,) = post(write_835([named])).payments
    assert (posted.status, posted.payer_id) == ("posted", other.id)
    assert_clean()


def test_a_file_of_several_interchanges_posts_every_payment_once(database):
    """A clearinghouse's download joining the 835s of several payers, one interchange each (the
    last with delimiters of its own): every payment posts; the same file again changes nothing."""
    from claimdesk.core.x12 import Delimiters

    claims = load_claims(12)
    remittances = remittances_by_payer(claims)
    joined = "".join(write_835([r], control_number=n, delimiters=Delimiters("|", ">", "^", "'") if n == len(remittances)
                               else Delimiters()) for n, r in enumerate(remittances, 1))
    report = post(joined, "download.835")
    (file,) = report.files
    assert report.ok and [p.status for p in file.payments] == ["posted"] * len(remittances)
    assert file.control_number == f"000000001 and {len(remittances) - 1} more interchange(s)"
    assert [p.trace_number for p in file.payments] == [r.trace_number for r in remittances]
    before = counts()
    again = post(joined, "download.835")
    assert counts() == before and {p.status for p in again.payments} == {"already"}
    assert_clean()
