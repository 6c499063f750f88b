"""The app's header says who is working and on which database (issue 18), on every screen."""

from __future__ import annotations

from claimdesk.core import db

from tests.tui import scenario
from tests.tui.helpers import drive, press, screen_text, wait_until


def test_the_header_names_the_user_and_the_database_on_every_screen(database):
    scenario.build()
    seen = {}

    async def flow(pilot):
        seen["home"] = screen_text(pilot.app).splitlines()[0]
        await press(pilot, "b")
        await wait_until(pilot, lambda: "Claim batches" in screen_text(pilot.app), "Claim batches")
        seen["batches"] = screen_text(pilot.app).splitlines()[0]

    drive(flow)
    where = "tester · " if db.is_postgres() else "tester · claimdesk.db"
    assert "claimdesk — " + where in seen["home"]
    assert "Claim batches — " + where in seen["batches"]
