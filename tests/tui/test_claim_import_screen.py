"""Importing the clinic's 837P claim files through the screen, as a clerk does it at 80x24 with
the keyboard only (Home, m, the path, Enter to preview, F2, y): the preview counts the claims and
names a refused one's segment and line while writing nothing; the import makes the encounters with
the amounts of the file; the same file again says it was imported and writes nothing; a path that
cannot be read is refused under the field. Both engines."""

from __future__ import annotations

import os
import threading

import pytest

from claimdesk.core.models import AuditEvent, Charge, Claim, Encounter, Patient, Payer, Provider, ServiceCode
from claimdesk.core.money import fmt
from claimdesk.core.services import balances, claim_import, verify
from claimdesk.tui.screens.claim_import import PathsRefused, split_paths
from claimdesk.tui.widgets.progress import WorkProgress

from tests.tui.helpers import _drawn, dialog_words, drive, press, screen_text, settle, type_text, wait_until, words
from tests.x12gen import make_claims, write_837p

TABLES = (Patient, Payer, Provider, ServiceCode, Encounter, Charge, Claim, AuditEvent)


def counts() -> dict:
    return {m.__name__: m.select().count() for m in TABLES}


def line_of(text: str, start: str) -> int:
    """The 1-based line of the first segment starting with ``start``."""
    return next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(start))


@pytest.fixture
def claims_file(tmp_path, monkeypatch):
    """Five claims (the fourth does not balance: CLM02 is 10.00 more than its lines) in
    ``claims.837`` in the working folder, so a clerk types a short path."""
    monkeypatch.chdir(tmp_path)
    claims = make_claims(5, seed=31, bad=(3,), dependants=True, secondary=True)
    text = write_837p(claims)
    (tmp_path / "claims.837").write_text(text)
    return claims, text


async def preview(pilot, path: str) -> None:
    """Home, m (Import 837 claim files), the path, Enter."""
    await press(pilot, "m")
    await type_text(pilot, path)
    await press(pilot, "enter")


def test_the_preview_counts_the_claims_and_names_the_refused_ones_place_and_writes_nothing(database, claims_file):
    claims, text = claims_file
    good = [c for i, c in enumerate(claims) if i != 3]
    bad_line = line_of(text, f"CLM*{claims[3].number}*")
    before = counts()
    seen = {}

    async def flow(pilot):
        await preview(pilot, "claims.837")
        seen["preview"] = words(screen_text(pilot.app))
        await press(pilot, "tab", "down", "down", "down")  # the table, then the refused claim
        seen["refused"] = words(screen_text(pilot.app))
        await press(pilot, "enter")  # a refused claim has no encounter to open
        seen["enter"] = type(pilot.app.screen).__name__

    drive(flow)
    assert counts() == before  # a preview writes nothing
    total = fmt(sum(c.total for c in good))
    assert "claims.837: 5 claim(s) found · file of 2024-03-04 · control 000000001" in seen["preview"]
    assert f"To import 4 · already imported 0 · refused 1 · total charges {total}" in seen["preview"]
    assert "New: 4 patient(s) · " in seen["preview"] and "Matched: 0 patient(s) · 0 payer(s)" in seen["preview"]
    assert f"{claims[0].number} to import" in seen["preview"]
    assert f"{claims[3].number} ✘ refused CLM02 line {bad_line}: CLM02 is" in seen["preview"]
    assert (f"{claims[3].number} refused at line {bad_line} (segment CLM, element CLM02; its CLM is at line "
            f"{bad_line} of claims.837): CLM02 is") in seen["refused"]
    assert "so the claim does not balance" in seen["refused"]
    assert seen["enter"] == "ClaimImportScreen"


def test_f2_and_yes_import_the_claims_as_encounters_with_their_amounts(database, claims_file):
    claims, _text = claims_file
    good = [c for i, c in enumerate(claims) if i != 3]
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await preview(pilot, "claims.837")
        await press(pilot, "f2")
        seen["confirm"] = dialog_words(screen_text(app))
        seen["before"] = counts()
        await press(pilot, "y")
        seen["result"] = words(screen_text(app))
        seen["focus"] = app.focused.id
        await press(pilot, "enter")  # Enter on the first imported claim: its encounter in Advanced Actions
        seen["opened"] = (type(app.screen).__name__, app.screen.query_one("#encounter-id").value)

    drive(flow)
    total = fmt(sum(c.total for c in good))
    assert "Import 4 claim(s)? One transaction and audit event per file." in seen["confirm"]
    assert "Files: claims.837" in seen["confirm"] and f"Total charges: {total}" in seen["confirm"]
    assert "Patients: 4 new, 0 matched" in seen["confirm"]
    assert "Not imported: 0 already imported, 1 refused" in seen["confirm"]
    assert seen["before"]["Encounter"] == 0  # nothing written before the yes

    encounters = {e.claim_no: e for e in Encounter.select()}
    assert sorted(encounters) == sorted(c.number for c in good)
    for claim in good:
        enc = encounters[claim.number]
        assert [c.fee for c in Charge.select().where(Charge.encounter == enc.id).order_by(Charge.line_no)] == [
            ln.charge for ln in claim.lines]
        assert balances.encounter_balance(enc.id) == claim.total
    first = encounters[good[0].number]
    (file_event,) = AuditEvent.select().where(AuditEvent.action == "claims.import")
    ids = sorted(e.id for e in encounters.values())
    assert (f"✔ claims.837: imported 4 claim(s) as encounters #{ids[0]}–#{ids[-1]} · audit #{file_event.id}"
            in seen["result"])
    assert f"total charges {total} · already imported 0 · refused 1" in seen["result"]
    assert f"{good[0].number} ✔ imported" in seen["result"] and f"{claims[3].number} ✘ refused" in seen["result"]
    assert f"Enter opens encounter #{first.id} in Advanced Actions." in seen["result"]
    assert seen["focus"] == "ci-table"
    assert seen["opened"] == ("AdvancedActionsScreen", str(first.id))
    assert verify.verify() == []


def test_importing_the_same_file_again_says_already_imported_and_writes_nothing(database, claims_file):
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await preview(pilot, "claims.837")
        await press(pilot, "f2", "y")
        seen["after_first"] = counts()
        await press(pilot, "f2")  # a second F2 (or a key pressed twice): the file is read and previewed again
        seen["again"] = (type(app.screen).__name__, words(screen_text(app)))

    drive(flow)
    screen, text = seen["again"]
    assert screen == "ClaimImportScreen"  # no confirm step: there is nothing to import
    assert "claims.837: 5 claim(s) found · already imported on 2026-04-01" in text and "by tester" in text
    assert "To import 0 · already imported 4 · refused 1" in text
    assert "! Nothing to import: every claim is already imported or refused (4 already imported, 1 refused)." in text
    assert "already imported as encounter #1" in text
    assert counts() == seen["after_first"]
    assert AuditEvent.select().where(AuditEvent.action == "claims.import").count() == 1


def test_a_path_that_cannot_be_read_is_refused_under_the_field(database, claims_file, tmp_path):
    (tmp_path / "notes.txt").write_text("not an X12 file at all")
    before = counts()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "m", "enter")  # nothing typed
        seen["empty"] = words(screen_text(app))
        await type_text(pilot, "nosuch.837, notes.txt")
        await press(pilot, "f5")
        seen["bad"] = words(screen_text(app))
        await press(pilot, "f2")  # not importable: no confirm step
        seen["f2"] = (type(app.screen).__name__, words(screen_text(app)))
        inp = app.screen.query_one("#ci-files")
        inp.value = ""
        await type_text(pilot, "nosuch.837 claims.837")  # one file read, one not: the readable one previews
        await press(pilot, "enter")
        seen["mixed"] = words(screen_text(app))

    drive(flow)
    assert "! Files: type the path of one or more 837P files" in seen["empty"]
    assert "! Files: cannot read 'nosuch.837': No such file or directory" in seen["bad"]
    assert "! Files: notes.txt: not read:" in seen["bad"]
    assert "No file could be read (see above)." in seen["bad"]
    screen, text = seen["f2"]
    assert screen == "ClaimImportScreen" and "! Not imported: 2 file(s) cannot be read (see above)" in text
    assert "! Files: cannot read 'nosuch.837'" in seen["mixed"]
    assert "2 files: 4 to import, 0 already imported, 1 refused" in seen["mixed"] and "1 not read" in seen["mixed"]
    assert "claims.837: 5 claim(s) found" in seen["mixed"]
    assert counts() == before


def test_a_tilde_path_and_a_pattern_name_the_files(database, claims_file, tmp_path, monkeypatch):
    """``~`` is the clerk's home folder; ``*.837`` every file it matches, in name order."""
    monkeypatch.setenv("HOME", str(tmp_path))
    claims, _text = claims_file
    (tmp_path / "more.837").write_text(write_837p(make_claims(2, seed=32), control_number=2))
    seen = {}

    async def flow(pilot):
        await preview(pilot, "~/*.837")
        seen["preview"] = words(screen_text(pilot.app))

    drive(flow)
    assert "2 files: 6 to import, 0 already imported, 1 refused" in seen["preview"]
    assert "claims.837: 5 claim(s) found" in seen["preview"] and "more.837: 2 claim(s) found" in seen["preview"]
    assert "File Claim Outcome" in seen["preview"]
    assert Encounter.select().count() == 0


def test_split_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("b.837", "a.837", "c.txt"):
        (tmp_path / name).write_text("")
    assert split_paths("one.837, two.837 three.837") == ["one.837", "two.837", "three.837"]
    assert split_paths('"my claims.837",x.837') == ["my claims.837", "x.837"]
    assert split_paths("~/*.837") == [os.path.join(str(tmp_path), n) for n in ("a.837", "b.837")]
    assert split_paths("~/none*.837") == [os.path.join(str(tmp_path), "none*.837")]  # refused by name later
    with pytest.raises(PathsRefused, match="type the path"):
        split_paths(" , ")
    with pytest.raises(PathsRefused, match="close the quote"):
        split_paths('"open.837')


def test_ctrl_k_stops_an_import_of_several_files_before_the_next_file(database, claims_file, tmp_path,
                                                                      monkeypatch):
    """Each file is its own transaction: Ctrl+K while the first is written keeps it, and the
    second is not started; the screen says so and shows what the first did."""
    (tmp_path / "more.837").write_text(write_837p(make_claims(2, seed=32), control_number=2))
    reached, go = threading.Event(), threading.Event()
    original = claim_import.import_files

    def held(sources, **kwargs):
        report = original(sources, **kwargs)
        if not kwargs.get("dry_run") and not reached.is_set():  # the first file is written: hold here
            reached.set()
            go.wait(30)
        return report

    monkeypatch.setattr(claim_import, "import_files", held)
    seen = {}

    async def flow(pilot):
        await preview(pilot, "claims.837 more.837")
        await press(pilot, "f2")
        await pilot.press("y")
        await wait_until(pilot, reached.is_set, "the first file was imported")
        bar = pilot.app.screen.query_one(WorkProgress)
        await wait_until(pilot, lambda: bar.running, "the bar shows")
        assert await _drawn(pilot)
        seen["running"] = words(screen_text(pilot.app))
        await pilot.press("ctrl+k")
        go.set()
        await wait_until(pilot, lambda: not bar.running, "the import ended")
        await settle(pilot)
        seen["after"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Importing 6 claim(s) from 2 files (Ctrl+K stops before the next file)" in seen["running"]
    assert "! Import cancelled after 1 file(s): those are imported (above); the others were not started." \
        in seen["after"]
    assert "✔ claims.837: imported 4 claim(s) as encounters #1–#4" in seen["after"]
    assert Encounter.select().count() == 4
    assert AuditEvent.select().where(AuditEvent.action == "claims.import").count() == 1
