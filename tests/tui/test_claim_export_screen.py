"""Claim batches at 80x24 writes the 837P (issue 17): the secondary claims the primary's 835
queued go out as a file named on screen; a claim that does not balance stays queued with its
reason shown."""

from __future__ import annotations

from pathlib import Path

from claimdesk.core.models import Charge, Claim, Encounter, Payer
from claimdesk.core.services import claims, eobs, era_import

from tests.test_claim_export import clinic_config, import_claims, secondaries  # noqa: F401 (a fixture)
from tests.test_x12_validation import pyx12_errors
from tests.tui.helpers import drive, press, screen_text, wait_until, words
from tests.x12gen import make_claims
from tests.x12gen835 import remittances_by_payer, write_835


def test_build_writes_the_837_and_lists_the_claim_held(database, clinic_config, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CLAIMDESK_EXPORT_DIR", str(clinic_config))
    generated = make_claims(6, seed=3, dependants=True, next_payer=True)
    import_claims(generated)
    era_import.import_files([("remit.835", write_835(remittances_by_payer(generated[:3])))])
    going = secondaries(generated[:3])
    # the last claim's primary explains only 1.00 of its first line; the clerk queues the secondary anyway
    late = generated[4]
    encounter = Encounter.get(Encounter.claim_no == late.number)
    first = encounter.charges.order_by(Charge.line_no).first()
    eobs.post_eob({"encounter_id": encounter.id, "payer_id": Payer.get(Payer.payer_code == late.payer.payer_id).id,
                   "lines": [{"charge_id": first.id, "adjustments": [
                       {"group_code": "CO", "reason_code": "45", "amount": "1.00"}]}]})
    held = claims.queue(encounter, Payer.get(Payer.payer_code == late.next_payer.payer.payer_id), "secondary")
    seen = {}

    async def flow(pilot):
        await press(pilot, "b")
        await wait_until(pilot, lambda: "queued for the next batch" in screen_text(pilot.app), "the queue")
        seen["queue"] = words(screen_text(pilot.app))
        await press(pilot, "b", "y")
        await wait_until(pilot, lambda: "held in the queue" in screen_text(pilot.app), "the result")
        seen["sent"] = screen_text(pilot.app)

    drive(flow)
    assert f"{len(going) + 1} claim(s) queued for the next batch" in seen["queue"]
    sent = words(seen["sent"])
    assert f"✔ {len(going)} claim(s) sent in" in sent and ".837" in sent
    assert "✘ 1 claim(s) held in the queue" in sent and f"#{held.id} enc {encounter.id}" in sent
    assert Claim.get_by_id(held.id).status == "queued"
    files = sorted(Path(clinic_config).glob("*.837"))
    assert files and all(pyx12_errors(f.read_text(encoding="ascii")) == [] for f in files)
    assert all(len(line) <= 80 for line in seen["sent"].splitlines())
