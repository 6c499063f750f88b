"""Batch posting through the screen: lines typed or pasted in the Lines box, or a lockbox/ERA
lines file, spread over the patients from one payer check, as a clerk does it (voucher, the
lines, F3 to preview per line, F2, y), and the database shows the effect; a line that applies
nothing is warned about; a bad line or an overdraw is refused before anything is written.
"""

from __future__ import annotations

import threading

import pytest
from textual.widgets import ProgressBar, TextArea

from claimdesk.core import clock
from claimdesk.core.models import AuditEvent, Credit, JournalEntry
from claimdesk.core.services import balances, batch_posting
from claimdesk.tui.app import ClaimdeskApp
from claimdesk.tui.widgets import progress as progress_module
from claimdesk.tui.widgets.progress import WorkProgress

from tests.tui import scenario
from tests.tui.helpers import (
    _drawn, choose, dialog_words, drive, press, screen_text, settle, tab_to, type_text, wait_until, words,
)
from tests.tui.test_snapshots import steps


def batch_events() -> int:
    return AuditEvent.select().where(AuditEvent.action == "credit.post_batch").count()


def write_csv(path, rows: list[tuple]) -> str:
    path.write_text("patient_id,amount,memo\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return str(path)


async def preview(pilot, voucher_id: int, path: str) -> None:
    """Open Batch posting from Home (key e), pick the voucher, type the file and Enter."""
    await press(pilot, "e")
    await choose(pilot, "bp-voucher", f"#{voucher_id} ")
    await tab_to(pilot, "bp-file")
    await type_text(pilot, path)
    await press(pilot, "enter")


async def type_lines(pilot, voucher_id: int, lines: list[str]) -> None:
    """Open Batch posting from Home (key e), pick the voucher, type the lines in the Lines box
    (Enter between them) and F3 to preview."""
    await press(pilot, "e")
    await choose(pilot, "bp-voucher", f"#{voucher_id} ")
    await tab_to(pilot, "bp-text")
    for i, line in enumerate(lines):
        if i:
            await press(pilot, "enter")
        await type_text(pilot, line)
    await press(pilot, "f5")


def test_posting_a_three_line_csv_leaves_the_balances_a_clerk_expects(database, tmp_path):
    clinic = scenario.build()
    dana, sam = clinic.dana.id, clinic.sam.id
    # Dana owes Aetna 230.00 (100.00 + 50.00 on 2026-03-02, 80.00 on 2026-03-09); Sam owes Aetna nothing
    assert balances.patient_balance(dana).insurance_pending == 230_00
    path = write_csv(tmp_path / "era.csv", [(dana, "60.00", "ERA 1"), (dana, "20.00", "ERA 2"), (sam, "10.00", "")])
    seen = {}

    async def flow(pilot):
        await preview(pilot, clinic.aetna_check, path)
        seen["preview"] = words(screen_text(pilot.app))
        await press(pilot, "f2")
        seen["confirm"] = words(screen_text(pilot.app))
        await press(pilot, "y")
        seen["result"] = words(screen_text(pilot.app))

    drive(flow)
    assert ("era.csv: 3 line(s), 2 patient(s), total 90.00: applies 80.00, 10.00 back to voucher. Voucher #1 "
            "undistributed 90.00 → 10.00 after. F2 posts.") in seen["preview"]
    # per line by the file's row: what it applies to which charge, what goes back, the warning
    enc = clinic.denied[0].id
    assert "Row Patient Amount Applied Returned Applied to (enc, code, date)" in seen["preview"]
    assert f"2 #1 Reyes, Dana 60.00 60.00 0.00 enc {enc} 99213 03-02 60.00" in seen["preview"]
    assert f"3 #1 Reyes, Dana 20.00 20.00 0.00 enc {enc} 99213 03-02 20.00" in seen["preview"]
    assert "4 #2 Ortiz, Sam 10.00 0.00 10.00 ⚠ applies nothing" in seen["preview"]
    assert "⚠ 1 line applies nothing: 10.00 goes back to the voucher" in seen["preview"]
    assert "Post this batch?" in seen["confirm"] and "Total: 90.00" in seen["confirm"]
    assert "Apply: oldest charges first; remainders go back to the" in seen["confirm"]
    assert ("✔ 3 credit(s) made (#1–#3) for 2 patient(s) from voucher #1 (Aetna): applied 80.00, "
            "unapplied 0.00, back to voucher 10.00. Voucher undistributed now 10.00.") in seen["result"]
    assert "#1 Reyes, Dana 2 80.00 80.00 0.00 0.00" in seen["result"]
    assert "#2 Ortiz, Sam 1 10.00 0.00 0.00 10.00" in seen["result"]
    # the check keeps what Sam's line could not pay; Dana's oldest Aetna charge is paid first
    assert balances.voucher_undistributed(clinic.aetna_check) == 10_00
    assert balances.patient_balance(dana).insurance_pending == 150_00
    assert balances.patient_balance(sam).patient_due == 120_00 and balances.patient_balance(sam).unapplied == 0
    first_charge = clinic.charges[clinic.denied[0].id][0]
    assert [s.balance for s in first_charge.splits] == [20_00]  # 100.00 less 60.00 and 20.00
    assert [c.memo for c in Credit.select().order_by(Credit.id)] == ["ERA 1", "ERA 2", ""]
    assert batch_events() == 1


def test_a_bad_amount_names_the_line_and_its_file_row_and_writes_nothing(database, tmp_path):
    clinic = scenario.build()
    path = write_csv(tmp_path / "bad.csv", [(clinic.dana.id, "10.00", ""), (clinic.sam.id, "1.005", "")])
    seen = {}

    async def flow(pilot):
        await preview(pilot, clinic.aetna_check, path)
        seen["preview"] = words(screen_text(pilot.app))
        await press(pilot, "f2")  # the file is read again and refused again: no confirm step
        seen["f2"] = (type(pilot.app.screen).__name__, words(screen_text(pilot.app)))

    drive(flow)
    assert "! lines.1.amount: " in seen["preview"] and "2 decimals (row 3 of bad.csv)" in seen["preview"]
    assert "Traceback" not in seen["preview"]
    assert seen["f2"][0] == "BatchPostingScreen" and "lines.1.amount" in seen["f2"][1]
    assert Credit.select().count() == 0 and batch_events() == 0
    assert balances.voucher_undistributed(clinic.aetna_check) == 90_00


def test_an_overdraw_is_refused_on_the_preview_naming_the_voucher(database, tmp_path):
    clinic = scenario.build()
    path = write_csv(tmp_path / "big.csv", [(clinic.dana.id, "60.00", ""), (clinic.dana.id, "40.00", "")])
    seen = {}

    async def flow(pilot):
        await preview(pilot, clinic.aetna_check, path)
        seen["preview"] = words(screen_text(pilot.app))
        await press(pilot, "f2")
        seen["f2"] = type(pilot.app.screen).__name__

    drive(flow)
    assert "! voucher_id: the batch totals 100.00 but voucher 1 has only 90.00 undistributed" in seen["preview"]
    assert "big.csv: 2 line(s), 1 patient(s), total 100.00" in seen["preview"]
    assert seen["f2"] == "BatchPostingScreen"  # no confirm step: nothing can be posted
    assert Credit.select().count() == 0 and batch_events() == 0


def test_ctrl_k_cancels_the_batch_inside_its_transaction_and_nothing_is_written(database, tmp_path, monkeypatch):
    clinic = scenario.build()
    path = write_csv(tmp_path / "era.csv", [(clinic.dana.id, "60.00", ""), (clinic.sam.id, "10.00", "")])
    reached, go, calls = threading.Event(), threading.Event(), []
    original = batch_posting.post_credit_batch

    def held(*args, progress=None, **kwargs):
        def spy(done, total):  # hold the run after the credits were drawn and applied
            calls.append((done, total))
            if done == 2:
                reached.set()
                go.wait(30)
            progress(done, total)
        return original(*args, progress=spy, **kwargs)

    monkeypatch.setattr(batch_posting, "post_credit_batch", held)
    monkeypatch.setattr(progress_module, "INTERVAL", 0)  # every step reaches the bar
    seen = {}

    async def flow(pilot):
        await preview(pilot, clinic.aetna_check, path)
        await press(pilot, "f2")
        await pilot.press("y")
        await wait_until(pilot, reached.is_set, "the batch reached the gate")
        bar = pilot.app.screen.query_one(WorkProgress)
        await wait_until(pilot, lambda: bar.running and bar.query_one(ProgressBar).progress == 1,
                         "the bar shows the first line posted")
        assert await _drawn(pilot)
        seen["running"] = words(screen_text(pilot.app))
        await pilot.press("ctrl+k")
        go.set()
        await settle(pilot)
        await wait_until(pilot, lambda: not bar.running, "the run ended")
        assert await _drawn(pilot)
        seen["after"] = words(screen_text(pilot.app))

    drive(flow)
    assert calls == [(0, 4), (1, 4), (2, 4)]
    assert "Batch posting (Ctrl+K cancels)" in seen["running"]
    assert "✘ Batch posting cancelled, nothing written." in seen["after"]
    assert Credit.select().count() == 0 and batch_events() == 0
    assert not JournalEntry.select().where(JournalEntry.kind == "credit").exists()
    assert balances.voucher_undistributed(clinic.aetna_check) == 90_00


@pytest.mark.parametrize("backend", ["sqlite"])
def test_snapshot_preview(database, snap_compare, tmp_path, monkeypatch):
    """The preview at 80x24: the voucher picked with the keyboard, the file typed, Enter."""
    clinic = scenario.build()
    monkeypatch.chdir(tmp_path)  # a relative path: the same picture on every machine
    write_csv(tmp_path / "era.csv", [(clinic.dana.id, "60.00", "ERA 1"), (clinic.dana.id, "20.00", "ERA 2"),
                                     (clinic.sam.id, "10.00", "")])
    with clock.frozen(scenario.TODAY):
        # nothing chosen yet, the cash voucher newest: down twice for the Aetna check; Tab twice
        # (past the Lines box) to the file
        assert snap_compare(ClaimdeskApp(ansi=False), terminal_size=(80, 24),
                            run_before=steps("e", "shift+tab", "enter", "down", "down", "enter", "tab", "tab",
                                             "type:era.csv", "enter", then=still_cursor))


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("stage", ["main", "confirm", "result"])
def test_snapshot_stages(database, snap_compare, tmp_path, monkeypatch, stage):
    """The screen as opened, the confirm step, and the result, at 80x24."""
    clinic = scenario.build()
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "era.csv", [(clinic.dana.id, "60.00", "ERA 1"), (clinic.dana.id, "20.00", "ERA 2"),
                                     (clinic.sam.id, "10.00", "")])
    to_file = ("e", "shift+tab", "enter", "down", "down", "enter", "tab", "tab", "type:era.csv", "enter")
    keys = {"main": ("e",), "confirm": (*to_file, "f2"), "result": (*to_file, "f2", "y")}[stage]
    with clock.frozen(scenario.TODAY):
        assert snap_compare(ClaimdeskApp(ansi=False), terminal_size=(80, 24),
                            run_before=steps(*keys, then=still_cursor))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_snapshot_typed_lines_preview(database, snap_compare):
    """Typed lines previewed with F3 at 80x24: per line what it applies, and the warning."""
    clinic = scenario.build()
    typed = ("type:patient_id,amount,memo", "enter", f"type:{clinic.dana.id},60.00,ERA 1", "enter",
             f"type:{clinic.sam.id},10.00", "enter", f"type:{clinic.dana.id},20.00")
    with clock.frozen(scenario.TODAY):
        assert snap_compare(ClaimdeskApp(ansi=False), terminal_size=(80, 24),
                            run_before=steps("e", "shift+tab", "enter", "down", "down", "enter", "tab", *typed, "f5",
                                             then=still_cursor))


async def still_cursor(pilot) -> None:
    """The Lines box's cursor does not blink in a picture."""
    for box in pilot.app.screen.query(TextArea):
        box.cursor_blink = False


def test_no_voucher_is_picked_for_the_clerk_when_there_are_several(database, tmp_path):
    clinic = scenario.build()
    path = write_csv(tmp_path / "era.csv", [(clinic.dana.id, "10.00", "")])
    seen = {}

    async def flow(pilot):
        await press(pilot, "e")
        seen["opened"] = words(screen_text(pilot.app))
        await tab_to(pilot, "bp-file")
        await type_text(pilot, path)
        await press(pilot, "enter")
        seen["refused"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Voucher choose the voucher…" in seen["opened"]
    assert "! voucher_id: choose the voucher the money comes from" in seen["refused"]
    assert batch_events() == 0 and balances.voucher_undistributed(clinic.aetna_check) == 90_00


def test_the_same_file_again_is_posted_only_after_the_clerk_confirms_it_again(database, tmp_path):
    clinic = scenario.build()
    dana = clinic.dana.id
    path = write_csv(tmp_path / "lockbox.csv", [(dana, "10.00", "box 1")])
    seen = {}

    async def flow(pilot):
        await preview(pilot, clinic.aetna_check, path)
        await press(pilot, "f2", "y")
        await wait_until(pilot, lambda: "credit(s) made" in screen_text(pilot.app), "the first posting")
        await tab_to(pilot, "bp-file")
        await type_text(pilot, path)
        await press(pilot, "enter")
        seen["preview"] = words(screen_text(pilot.app))
        await press(pilot, "f2")
        seen["confirm"] = words(screen_text(pilot.app))
        await press(pilot, "y")
        await wait_until(pilot, lambda: "credit(s) made" in screen_text(pilot.app), "the second posting")

    drive(flow)
    assert "⚠ This file was posted before:" in seen["preview"] and "to voucher #1 (1 line(s)" in seen["preview"]
    assert "This file was posted before. Post it AGAIN?" in seen["confirm"]
    assert batch_events() == 2


# --- typed or pasted lines, F3 previews per line ----------------------------------------------
def test_typed_lines_preview_each_line_warn_and_post_with_f2(database):
    """The clerk types the check's lines (no file), F3 shows per line what it pays, which line
    applies nothing and what goes back to the check; F2 + y posts it and the balances move.
    At 80x24 with notices drawn: nothing covers the preview or the result."""
    clinic = scenario.build()
    dana, sam = clinic.dana.id, clinic.sam.id
    enc = clinic.denied[0].id  # Dana's oldest Aetna encounter (2026-03-02)
    seen = {}

    async def flow(pilot):
        await type_lines(pilot, clinic.aetna_check, ["patient_id,amount,memo", f"{dana},60.00,ERA 1", f"{sam},10.00",
                                                     f"{dana},20.00"])
        seen["preview"] = words(screen_text(pilot.app))
        await press(pilot, "f2")
        seen["confirm"] = dialog_words(screen_text(pilot.app))
        await press(pilot, "y")
        await wait_until(pilot, lambda: "credit(s) made" in screen_text(pilot.app), "the posting")
        assert await _drawn(pilot)
        seen["result"] = words(screen_text(pilot.app))
        seen["box"] = pilot.app.screen.query_one("#bp-text", TextArea).text
        # the same lines typed again (without the header): the preview says they were posted
        await tab_to(pilot, "bp-text")
        for i, line in enumerate([f"{dana},60.00,ERA 1", f"{sam},10", f"{dana},20.00"]):
            await press(pilot, *(["enter"] if i else []))
            await type_text(pilot, line)
        await press(pilot, "f5")
        seen["again"] = words(screen_text(pilot.app))

    drive(flow, notifications=True)
    assert "patient_id,amount,memo — one line per patient; e.g. 1042,25.00,copay" in seen["preview"]
    assert ("Typed lines: 3 line(s), 2 patient(s), total 90.00: applies 80.00, 10.00 back to voucher. Voucher #1 "
            "undistributed 90.00 → 10.00 after. F2 posts.") in seen["preview"]
    assert "⚠ 1 line applies nothing: 10.00 goes back to the voucher" in seen["preview"]
    # each line by its line in the box (the header is line 1)
    assert "Line Patient Amount Applied Returned Applied to (enc, code, date)" in seen["preview"]
    assert f"2 #1 Reyes, Dana 60.00 60.00 0.00 enc {enc} 99213 03-02 60.00" in seen["preview"]
    assert "3 #2 Ortiz, Sam 10.00 0.00 10.00 ⚠ applies nothing" in seen["preview"]
    assert f"4 #1 Reyes, Dana 20.00 20.00 0.00 enc {enc} 99213 03-02 20.00" in seen["preview"]
    assert "f5 Preview" in seen["preview"] and "f2 Post batch" in seen["preview"]
    assert "Post this batch?" in seen["confirm"] and "Lines: Typed lines: 3 line(s), 2 patient(s)" in seen["confirm"]
    assert "Applies: 80.00" in seen["confirm"]
    assert "⚠ Warning: 1 line applies nothing: 10.00 goes back to the voucher" in seen["confirm"]
    assert ("✔ 3 credit(s) made (#1–#3) for 2 patient(s) from voucher #1 (Aetna): applied 80.00, unapplied 0.00, "
            "back to voucher 10.00. Voucher undistributed now 10.00.") in seen["result"]
    assert "#1 Reyes, Dana 2 80.00 80.00 0.00 0.00" in seen["result"]
    assert "#2 Ortiz, Sam 1 10.00 0.00 0.00 10.00" in seen["result"]
    assert seen["box"] == ""  # posted: F2 again would post them twice
    assert "⚠ These lines were posted before: 2026-04-01" in seen["again"] and "to voucher #1 (3 line(s), 90.00)" \
        in seen["again"] and "F2 asks before posting them again." in seen["again"]
    assert balances.voucher_undistributed(clinic.aetna_check) == 10_00
    assert balances.patient_balance(dana).insurance_pending == 150_00
    assert [c.memo for c in Credit.select().order_by(Credit.id)] == ["ERA 1", "", ""]
    assert batch_events() == 1


def test_a_check_to_patients_who_owe_the_payer_nothing_is_warned_before_posting(database):
    """The issue: three lines that owe the payer nothing applied 0.00 and left the money on the
    voucher with no warning. Now the preview says so before F2."""
    clinic = scenario.build()
    sam = clinic.sam.id  # Sam's charge is self-pay: he owes Aetna nothing
    seen = {}

    async def flow(pilot):
        await type_lines(pilot, clinic.aetna_check, [f"{sam},30.00", f"{sam},40.00", f"{sam},20.00"])
        seen["preview"] = words(screen_text(pilot.app))

    drive(flow)
    assert "⚠ 3 lines apply nothing: 90.00 goes back to the voucher" in seen["preview"]
    assert "applies 0.00, 90.00 back to voucher" in seen["preview"]
    for n, amount in ((1, "30.00"), (2, "40.00"), (3, "20.00")):
        assert f"{n} #2 Ortiz, Sam {amount} 0.00 {amount} ⚠ applies nothing" in seen["preview"]
    assert Credit.select().count() == 0 and batch_events() == 0


def test_a_bad_typed_line_is_named_by_its_line_under_the_box_and_nothing_is_posted(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        await type_lines(pilot, clinic.aetna_check, [f"{clinic.dana.id},10.00", f"{clinic.sam.id},1.005", "x,2.00"])
        seen["preview"] = words(screen_text(pilot.app))
        await press(pilot, "f2")  # read again, refused again: no confirm step
        seen["f2"] = type(pilot.app.screen).__name__

    drive(flow)
    assert "! line 2, amount: " in seen["preview"] and "2 decimals; line 3, patient: must be a whole-number id" \
        in seen["preview"]
    assert "lines.1" not in seen["preview"] and "Traceback" not in seen["preview"]
    assert seen["f2"] == "BatchPostingScreen"
    assert Credit.select().count() == 0 and batch_events() == 0


def test_f5_with_nothing_typed_says_where_the_lines_go(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "e")
        await choose(pilot, "bp-voucher", f"#{clinic.aetna_check} ")
        await press(pilot, "f5")
        seen["empty"] = (words(screen_text(pilot.app)), pilot.app.focused.id)

    drive(flow)
    assert ("! lines: type or paste the lines (patient_id,amount,memo), or give the path of a lines file"
            in seen["empty"][0]) and seen["empty"][1] == "bp-text"
