"""Posting a payer's 835 remittance through the ERA screen, as a clerk does it at 80x24 with the
keyboard only (Home, v, the path, Enter to preview, F2, y): the preview shows per payment the
payer, amount, counts, what the claims pay and what stays undistributed, the PLB, every claim with
its action, and a refused payment with its reason, while writing nothing; the post makes the
voucher and the EOBs the table names, and the books verify; the same file again says it was
posted; the ERA exceptions (F4, or Home x) list each exception with its reason and resolve it
with a note, a refusal shown under the note. Both engines (the snapshot on SQLite)."""

from __future__ import annotations

import dataclasses

import pytest

from claimdesk.core import clock
from claimdesk.core.models import AuditEvent, Eob, Voucher
from claimdesk.core.models.remits import RemitClaim, RemitFile, RemitPayment
from claimdesk.core.money import Cents, fmt
from claimdesk.core.services import claim_import, era_exceptions, era_import, verify
from claimdesk.tui.app import ClaimdeskApp
from claimdesk.tui.commands import SCREEN_WORDS, palette_entries, search_words

from tests.tui import scenario
from tests.tui.helpers import dialog_words, drive, press, screen_text, type_text, words
from tests.tui.test_snapshots import steps
from tests.x12gen import make_claims, write_837p
from tests.x12gen835 import remittances_by_payer, write_835

TABLES = (Voucher, Eob, RemitFile, RemitPayment, RemitClaim, AuditEvent)


def counts() -> dict:
    return {m.__name__: m.select().count() for m in TABLES}


@dataclasses.dataclass
class Remit:
    medicare: object  # the payment posted: 1 claim paid, 2 exceptions, 1 denied; PLB
    refused: object   # a payment whose BPR02 is 1.00 more than its claims less its PLB
    text: str


@pytest.fixture
def remit_file(tmp_path, monkeypatch) -> Remit:
    """Sixteen claims imported from an 837P; ``remit.835`` in the working folder holds two of the
    payers' payments: Medicare's (claims processed as primary, secondary, tertiary and denied,
    with a PLB) and United Healthcare's, refused because it does not balance."""
    monkeypatch.chdir(tmp_path)
    claims = make_claims(16, seed=3, dependants=True)
    imported = claim_import.import_files([("claims.837", write_837p(claims))])
    assert not imported.files[0].refused
    remittances = remittances_by_payer(claims, statuses=True, plb=True)
    medicare = next(r for r in remittances if r.payer.name == "MEDICARE PART B")
    united = next(r for r in remittances if r.payer.name == "UNITED HEALTHCARE")
    refused = dataclasses.replace(united, amount=Cents(united.amount + 100))
    text = write_835([medicare, refused])
    (tmp_path / "remit.835").write_text(text)
    return Remit(medicare, refused, text)


async def preview(pilot, path: str = "remit.835") -> None:
    """Home, v (Post ERA), the path, Enter."""
    await press(pilot, "v")
    await type_text(pilot, path)
    await press(pilot, "enter")


def test_the_preview_shows_each_payment_its_claims_and_the_refused_one_and_writes_nothing(database, remit_file):
    m = remit_file.medicare
    exceptions = [c for c in m.claims if c.status in ("2", "3")]
    before = counts()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await preview(pilot)
        seen["preview"] = words(screen_text(app))
        await press(pilot, "tab")  # the table: the first claim
        seen["first"] = words(screen_text(app))
        await press(pilot, "down")  # an exception
        seen["exception"] = words(screen_text(app))
        await press(pilot, "down", "down", "down")  # the refused payment's row: the summary shows that payment
        seen["refused"] = words(screen_text(app))
        await press(pilot, "enter")  # a refused payment has no encounter to open
        seen["enter"] = type(app.screen).__name__

    drive(flow)
    assert counts() == before  # a preview writes nothing
    text = seen["preview"]
    assert f"remit.835: 2 payment(s) · to post 1 ({fmt(m.amount)}) · already posted 0 · refused 1" in text
    assert f"Payment 1/2 MEDICARE PART B · {fmt(m.amount)} ACH 2024-03-26 · trace {m.trace_number}" in text
    assert "Would post 4 claim(s): 1 to post, 1 to deny, 2 exceptions" in text
    paid = m.claims[0].paid
    assert (f"Claims pay {fmt(paid)} · {fmt(sum(c.paid for c in exceptions))} stays undistributed · "
            f"PLB kept 31.53") in text
    assert f"PLB: WO {m.claims[0].claim_number} 25.00, L6 " in text and "-3.47, FB FB00010301 10.00" in text
    assert "# Claim Status Paid Action Enc EOB, or why not" in text
    assert f"1 {m.claims[0].claim_number} primary {fmt(paid)} to post 1" in text
    assert f"1 {exceptions[0].claim_number} secondary {fmt(exceptions[0].paid)} ✘ exception 5 the payer" in text
    denied = next(c for c in m.claims if c.status == "4")
    assert f"1 {denied.claim_number} denied 0.00 denied 16 → Denied" in text
    assert f"2 (payment) {fmt(remit_file.refused.amount)} ✘ refused" in text
    assert f"Would post an EOB of {fmt(paid)} on encounter #1." in seen["first"]
    assert "Enter opens encounter #1 in Advanced Actions." in seen["first"]
    assert (f"✘ Exception (line 44 of remit.835): the payer processed claim {exceptions[0].claim_number} as "
            "secondary, but it is the primary payer on encounter 5") in seen["exception"]
    refused = seen["refused"]
    assert f"Payment 2/2 UNITED HEALTHCARE · {fmt(remit_file.refused.amount)} ACH" in refused
    assert "✘ Refused, nothing of it is posted: " in refused and "balance" in refused
    assert seen["enter"] == "EraImportScreen"


def test_f2_and_yes_post_the_payment_as_a_voucher_with_its_eobs(database, remit_file):
    m = remit_file.medicare
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await preview(pilot)
        await press(pilot, "f2")
        seen["confirm"] = dialog_words(screen_text(app))
        seen["before"] = counts()
        await press(pilot, "y")
        seen["result"] = words(screen_text(app))
        seen["focus"] = app.focused.id
        await press(pilot, "enter")  # Enter on the claim posted: its encounter in Advanced Actions
        seen["opened"] = (type(app.screen).__name__, app.screen.query_one("#encounter-id").value)

    drive(flow)
    assert f"Post 1 payment(s), 4 claim(s), total {fmt(m.amount)}?" in seen["confirm"]
    assert "Files: remit.835" in seen["confirm"] and f"Payments: 1 to post, {fmt(m.amount)} in all" in seen["confirm"]
    assert "Claims: 1 to post, 1 to deny, 2 exceptions" in seen["confirm"]
    assert "PLB: 31.53 kept by the payers" in seen["confirm"]
    assert "Not posted: 0 already posted, 1 refused" in seen["confirm"]
    assert seen["before"]["Voucher"] == 0 and seen["before"]["Eob"] == 0  # nothing written before the yes

    (payment,) = RemitPayment.select()
    voucher = Voucher.get_by_id(payment.voucher_id)
    assert voucher.amount == m.amount and payment.trace_number == m.trace_number
    eobs = {c.claim_no: c.eob_id for c in RemitClaim.select().where(RemitClaim.eob.is_null(False))}
    assert sorted(eobs) == sorted(c.claim_number for c in m.claims if c.status in ("1", "4"))
    text = seen["result"]
    assert f"remit.835: 2 payment(s) · posted 1 ({fmt(m.amount)}) · already posted 0 · refused 1" in text
    assert f"✔ Posted as voucher #{voucher.id}, 4 claim(s): 1 posted, 1 denied, 2 exceptions" in text
    assert f"PLB kept 31.53 · audit #{payment.audit_id}" in text
    for claim_no, eob_id in eobs.items():
        assert f"{claim_no} " in text and f"EOB #{eob_id}" in text
    assert f"{m.claims[0].claim_number} primary {fmt(m.claims[0].paid)} ✔ posted 1 EOB #{eobs[m.claims[0].claim_number]}" \
        in text
    assert f"Posted as EOB #{eobs[m.claims[0].claim_number]} on encounter #1." in text
    assert seen["focus"] == "era-table"
    assert seen["opened"] == ("AdvancedActionsScreen", "1")
    assert era_exceptions.count_open() == 2
    assert verify.verify() == []


def test_posting_the_same_file_again_says_already_posted_and_writes_nothing(database, remit_file):
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await preview(pilot)
        await press(pilot, "f2", "y")
        seen["after_first"] = counts()
        await press(pilot, "f2")  # again: the file is read and previewed anew, nothing to post
        seen["again"] = (type(app.screen).__name__, words(screen_text(app)))

    drive(flow)
    screen, text = seen["again"]
    m = remit_file.medicare
    assert screen == "EraImportScreen"  # no confirm step: there is nothing to post
    assert "remit.835: 2 payment(s) · to post 0 (0.00) · already posted 1 · refused 1" in text
    assert "this file was imported on 2026-04-01" in text and "by tester" in text
    voucher = Voucher.get(Voucher.reference == m.trace_number).id  # (PostgreSQL: the preview used an id)
    assert (f"Already posted, nothing to do: payment {m.trace_number} of {fmt(m.amount)} was posted on 2026-04-01 "
            f"by tester from remit.835 as voucher {voucher}") in text
    assert "! Nothing to post: every payment is already posted or refused (1 already posted, 1 refused)." in text
    assert f"1 (payment) {fmt(m.amount)} already" in text
    assert counts() == seen["after_first"]
    assert AuditEvent.select().where(AuditEvent.action == "era.payment").count() == 1


def test_an_exception_shows_its_reason_and_is_resolved_with_a_note(database, remit_file):
    with clock.frozen(scenario.TODAY):
        era_import.import_files(["remit.835"])
    first, second = era_exceptions.open_exceptions()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "x")  # Home, x: the ERA exceptions
        seen["list"] = words(screen_text(app))
        await press(pilot, "r")
        seen["dialog"] = dialog_words(screen_text(app))
        await type_text(pilot, "ok")
        await press(pilot, "enter")  # too short: refused under the note, nothing written
        seen["short"] = dialog_words(screen_text(app))
        seen["still"] = era_exceptions.count_open()
        await type_text(pilot, "posted by hand from the voucher")  # (the refused note is selected: replaced)
        await press(pilot, "f2")
        seen["resolved"] = (type(app.screen).__name__, words(screen_text(app)))

    drive(flow)
    text = seen["list"]
    assert "2 open ERA exception(s), oldest first; their money waits on the voucher." in text
    assert "# Claim Payer Paid Voucher Enc Why" in text
    assert f"{first['id']} {first['claim_no']} MEDICARE PA… {fmt(first['paid'])} #1 5 the payer" in text
    assert (f"#{first['id']} claim {first['claim_no']} from MEDICARE PART B (trace {first['trace_number']}, remit.835 "
            f"line 44, posted 2026-04-01): paid {fmt(first['paid'])} waiting on voucher #1; encounter #5") in text
    assert f"✘ {first['reason']}" in text
    assert "Enter opens encounter #5 · r resolves it with a note." in text
    assert f"Resolve ERA exception #{first['id']}: claim {first['claim_no']}" in seen["dialog"]
    assert "! Note: " in seen["short"] and seen["still"] == 2
    screen, text = seen["resolved"]
    assert screen == "EraExceptionsScreen"
    assert (f"✔ ERA exception #{first['id']} (claim {first['claim_no']}) resolved; taken off the ERA exceptions "
            "queue.") in text
    assert "1 open ERA exception(s)" in text and f"{second['id']} {second['claim_no']} " in text
    row = RemitClaim.get_by_id(first["id"])
    assert (row.outcome, row.resolution, row.resolved_by) == ("resolved", "posted by hand from the voucher", "tester")
    assert [r["id"] for r in era_exceptions.open_exceptions()] == [second["id"]]


def test_f4_opens_the_exceptions_and_a_path_that_cannot_be_read_is_refused_under_the_field(database, remit_file,
                                                                                         tmp_path):
    (tmp_path / "notes.txt").write_text("not an X12 file at all")
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "v", "enter")  # nothing typed
        seen["empty"] = words(screen_text(app))
        await type_text(pilot, "nosuch.835, notes.txt")
        await press(pilot, "f5")
        seen["bad"] = words(screen_text(app))
        await press(pilot, "f2")  # not postable: no confirm step
        seen["f2"] = (type(app.screen).__name__, words(screen_text(app)))
        await press(pilot, "f7")
        seen["f4"] = (type(app.screen).__name__, words(screen_text(app)))
        await press(pilot, "escape")
        seen["back"] = type(app.screen).__name__

    drive(flow)
    assert "! Files: type the path of one or more 835 remittance files" in seen["empty"]
    assert "! Files: cannot read 'nosuch.835'" in seen["bad"] and "! Files: notes.txt: not read:" in seen["bad"]
    assert "No file could be read (see above)." in seen["bad"]
    screen, text = seen["f2"]
    assert screen == "EraImportScreen" and "! Not posted: 2 file(s) cannot be read (see above)" in text
    screen, text = seen["f4"]
    assert screen == "EraExceptionsScreen" and "No ERA exception waits." in text
    assert seen["back"] == "EraImportScreen"
    assert counts()["Voucher"] == 0


def test_the_palette_finds_the_era_screens_by_835_and_batch_posting_by_lockbox(database):
    app = ClaimdeskApp()
    titles = [title for title, _help, _cb in palette_entries(app)]
    assert "Post ERA (835 remittance)" in titles and "ERA exceptions" in titles

    def found(query: str) -> list[str]:
        return [t for t in titles if all(w in search_words(t, SCREEN_WORDS.get(t, "")) for w in query.split())]

    assert found("835 remittance") == ["Post ERA (835 remittance)", "ERA exceptions"]
    assert "Batch posting" in found("lockbox") and "Batch posting" not in found("835")


# one engine is enough for the picture
@pytest.mark.parametrize("backend", ["sqlite"])
def test_snapshot_preview(database, remit_file, snap_compare):
    with clock.frozen(scenario.TODAY):
        assert snap_compare(ClaimdeskApp(ansi=False), terminal_size=(80, 24),
                            run_before=steps("v", "type:remit.835", "enter", "tab", "down"))
