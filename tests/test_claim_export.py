"""Claims as 837P files (issue 17): a secondary claim queued by the primary's payment goes out
with the primary's result (2320/2330A/2330B, 2430) equal to the EOBs posted, to the cent; every
file passes pyx12 with zero errors; a resent claim the payer adjudicated is a replacement
(frequency 7 with the payer's claim number); a claim that does not balance is held in the queue
with its reason; control numbers are unique and increasing; both engines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from claimdesk.core.config import Clinic, clinic_section
from claimdesk.core.errors import Refused
from claimdesk.core.money import fmt
from claimdesk.core.demo.reference import CLINIC
from claimdesk.core.models import Charge, Claim, Encounter, Eob, EobAdjustment, EobLine, Payer
from claimdesk.core.models.exports import ClaimFile
from claimdesk.core.services import claim_export, claim_import, claims, eobs, era_import, payments
from claimdesk.core.x12 import read_interchange
from claimdesk.core.x12.claims837_reader import parse_837p
from claimdesk.core.x12.claims837_writer import Submission, write_837p as write_ours

from tests import demo_cache
from tests.test_x12_validation import pyx12_errors
from tests.x12gen import Line, make_claims, write_837p
from tests.x12gen835 import remittances_by_payer, write_835


@pytest.fixture
def clinic_config(tmp_path, monkeypatch):
    """A config naming the demo clinic as billing provider, files sent as tests (ISA15 T)."""
    path = tmp_path / "clinic.toml"
    path.write_text(clinic_section(Clinic(**CLINIC)) + '\n[edi]\nusage = "T"\n', encoding="utf-8")
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(path))
    return tmp_path / "out"


@pytest.fixture
def demo_clinic(backend, request, tmp_path_factory, tmp_path):
    """A private copy of the demo clinic on this test's engine."""
    pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
    with demo_cache.opened_copy(demo_cache.template(tmp_path_factory, pg=pg)[0], tmp_path):
        yield


def import_claims(claims) -> None:
    report = claim_import.import_files([("claims.837", write_837p(claims))])
    assert len(report.files[0].imported) == len(claims)


def secondaries(claims) -> list:
    """Claims naming a secondary payer whose primary left the patient something (PR moved on)."""
    return [c for c in claims if c.next_payer and any(line.adjudication()[2] for line in c.lines)]


def batch_files(result: dict) -> list[tuple[dict, str]]:
    return [(b, Path(b["x12"]).read_text(encoding="ascii")) for b in result["batches"]]


def posted_result(encounter: Encounter, payer: Payer) -> dict:
    """Per charge what ``payer``'s EOBs on ``encounter`` say: paid and adjustments by (group, reason)."""
    out: dict[int, tuple[int, dict]] = {}
    for line in (EobLine.select().join(Eob).where((Eob.encounter == encounter.id) & (Eob.payer == payer.id))):
        paid, adjustments = out.get(line.charge_id, (0, {}))
        for adj in EobAdjustment.select().where(EobAdjustment.line == line.id):
            key = (adj.group_code, adj.reason_code)
            adjustments[key] = adjustments.get(key, 0) + adj.amount
        out[line.charge_id] = (paid + line.paid, adjustments)
    return out


def test_a_secondary_claim_carries_the_primary_835_as_posted_and_passes_pyx12(database, clinic_config):
    generated = make_claims(12, seed=3, dependants=True, next_payer=True)
    import_claims(generated)
    era_import.import_files([("remit.835", write_835(remittances_by_payer(generated)))])
    expected = secondaries(generated)
    assert expected, "the generator gives claims with a secondary to bill"

    result = claims.build_batch(out_dir=clinic_config)
    assert result["held"] == [] and result["x12"] is True
    assert result["claims_sent"] == len(expected)
    seen = 0
    for batch, text in batch_files(result):
        assert pyx12_errors(text) == []
        for claim in parse_837p(text).claims:
            seen += 1
            encounter = Encounter.get(Encounter.claim_no == claim.number)
            assert claim.subscriber.sequence == "S" and claim.frequency == "1"
            (primary,) = claim.other_payers
            assert primary.subscriber.sequence == "P"
            payer = Payer.get(Payer.payer_code == primary.payer.payer_id)
            posted = posted_result(encounter, payer)
            charges = sorted(posted)
            assert primary.paid == sum(paid for paid, _ in posted.values())  # AMT*D
            assert primary.remaining == sum(c for _, adj in posted.values() for (g, _), c in adj.items() if g == "PR")
            for line, charge_id in zip(claim.lines, charges):
                (result_line,) = line.adjudications
                paid, adjustments = posted[charge_id]
                assert result_line.paid == paid  # SVD02
                assert {(a.group, a.reason): a.amount for a in result_line.adjustments} == adjustments
                assert line.charge - sum(a.amount for a in result_line.adjustments) == result_line.paid
            assert Claim.get_by_id(next(i for i in batch["claim_ids"]
                                        if Claim.get_by_id(i).encounter_id == encounter.id)).status == "sent"
    assert seen == len(expected)


def test_golden_primary_with_co_and_pr_then_its_secondary(database, clinic_config):
    """One claim of two lines; the primary allows 80% of each, pays 70%, leaves 10% coinsurance."""
    claim = make_claims(2, seed=11, next_payer=True)[1]  # (every third from the second names a secondary)
    claim.lines = [Line("99213", 110_00, dt.date(2024, 2, 1), "CD0001L1"),
                   Line("36415", 12_00, dt.date(2024, 2, 1), "CD0001L2")]
    import_claims([claim])
    encounter = Encounter.get(Encounter.claim_no == claim.number)
    primary = Payer.get(Payer.payer_code == claim.payer.payer_id)
    charges = list(encounter.charges.order_by(Charge.line_no))
    voucher = payments.create_voucher({"payer_id": primary.id, "method": "check", "amount": "85.40",
                                            "details": {"check_number": "5501"}})["voucher_id"]
    eobs.post_eob({"encounter_id": encounter.id, "payer_id": primary.id, "voucher_id": voucher,
                   "claim_ref": "PCN778899", "lines": [
                       {"charge_id": charges[0].id, "allowed": "88.00", "paid": "77.00", "adjustments": [
                           {"group_code": "CO", "reason_code": "45", "amount": "22.00"},
                           {"group_code": "PR", "reason_code": "2", "amount": "11.00"}]},
                       {"charge_id": charges[1].id, "allowed": "9.60", "paid": "8.40", "adjustments": [
                           {"group_code": "CO", "reason_code": "45", "amount": "2.40"},
                           {"group_code": "PR", "reason_code": "2", "amount": "1.20"}]}]})

    (batch, text), = batch_files(claims.build_batch(out_dir=clinic_config))
    segments = [s.strip() for s in text.split("~") if s.strip()]
    start = segments.index(next(s for s in segments if s.startswith("CLM*")))
    body = segments[start:segments.index(next(s for s in segments if s.startswith("SE*")))]
    secondary = claim.next_payer.payer
    assert body == [
        f"CLM*{claim.number}*122***11:B:1*Y*A*Y*Y",
        *[s for s in body if s.startswith("HI*")],
        *[s for s in body if s.startswith(("NM1*82", "PRV*PE"))],
        f"SBR*P*18*{claim.group}******{claim.payer.filing}",
        "AMT*D*85.4",
        "AMT*EAF*12.2",
        "OI***Y***Y",
        f"NM1*IL*1*{claim.subscriber.last}*{claim.subscriber.first}****MI*{claim.subscriber.member_id}",
        f"NM1*PR*2*{claim.payer.name}*****PI*{claim.payer.payer_id}",
        "LX*1",
        "SV1*HC:99213*110*UN*1***1",
        "DTP*472*D8*20240201",
        "REF*6R*CD0001L1",
        f"SVD*{claim.payer.payer_id}*77*HC:99213**1",
        "CAS*CO*45*22",
        "CAS*PR*2*11",
        "DTP*573*D8*" + Eob.get(Eob.encounter == encounter.id).received_on.strftime("%Y%m%d"),
        "LX*2",
        "SV1*HC:36415*12*UN*1***1",
        "DTP*472*D8*20240201",
        "REF*6R*CD0001L2",
        f"SVD*{claim.payer.payer_id}*8.4*HC:36415**1",
        "CAS*CO*45*2.4",
        "CAS*PR*2*1.2",
        "DTP*573*D8*" + Eob.get(Eob.encounter == encounter.id).received_on.strftime("%Y%m%d"),
    ]
    assert batch["payer"] == Payer.get(Payer.payer_code == secondary.payer_id).name
    assert pyx12_errors(text) == []

    # resent after the secondary gave its claim number: a replacement of that claim
    sent = Claim.get((Claim.encounter == encounter.id) & (Claim.rank == "secondary"))
    eobs.post_eob({"encounter_id": encounter.id, "payer_id": Payer.get(Payer.payer_code == secondary.payer_id).id,
                   "claim_ref": "SEC-4455", "lines": [
                       {"charge_id": c.id, "denied": True, "denial_code": "CO-16"} for c in charges]})
    claims.requeue(sent.id, "corrected subscriber")
    (_, again), = batch_files(claims.build_batch(out_dir=clinic_config))
    assert f"CLM*{claim.number}*122***11:B:7*Y*A*Y*Y~" in again and "REF*F8*SEC-4455~" in again
    assert pyx12_errors(again) == []


def test_a_claim_that_does_not_balance_stays_queued_with_its_reason(database, clinic_config):
    claim = make_claims(2, seed=12, next_payer=True)[1]
    import_claims([claim])
    encounter = Encounter.get(Encounter.claim_no == claim.number)
    primary = Payer.get(Payer.payer_code == claim.payer.payer_id)
    secondary = Payer.get(Payer.payer_code == claim.next_payer.payer.payer_id)
    first = encounter.charges.order_by(Charge.line_no).first()
    voucher = payments.create_voucher({"payer_id": primary.id, "method": "check", "amount": "5.00",
                                       "details": {"check_number": "77"}})["voucher_id"]
    eobs.post_eob({"encounter_id": encounter.id, "payer_id": primary.id, "voucher_id": voucher, "lines": [
        {"charge_id": first.id, "paid": "5.00", "adjustments": [
            {"group_code": "PR", "reason_code": "1", "amount": "2.00"}]}]})  # the rest of the line unexplained
    claims.queue(encounter, secondary, "secondary")  # the clerk queues it by hand

    result = claims.build_batch(out_dir=clinic_config)
    assert result["batches"] == [] and result["claims_sent"] == 0
    (held,) = result["held"]
    assert held["encounter_id"] == encounter.id and held["payer"] == secondary.name
    assert held["reason"] == (f"does not balance: line 1 ({first.service_code.code}): {claim.payer.name} paid 5.00 "
                              f"but the charge {fmt(first.fee)} less its adjustments 2.00 is {fmt(first.fee - 2_00)}; "
                              f"{claim.payer.name} paid 5.00 on the claim but its charge {fmt(first.fee)} less the "
                              f"adjustments 2.00 is {fmt(first.fee - 2_00)}")
    assert Claim.get(Claim.id == held["claim_id"]).status == "queued"
    assert not clinic_config.exists() or not list(clinic_config.glob("*.837"))


def test_control_numbers_are_unique_and_increasing_and_a_batch_can_be_written_again(database, clinic_config):
    generated = make_claims(4, seed=5, dependants=True)
    import_claims(generated)
    for claim in list(Claim.select()):
        claims.requeue(claim.id, "resend")
    result = claims.build_batch(out_dir=clinic_config)
    numbers = [b["control_number"] for b in result["batches"]]
    assert numbers == list(range(1, len(numbers) + 1))
    again = claim_export.export_batch(result["batches"][0]["batch_id"], out_dir=clinic_config)
    assert again["control_number"] == numbers[-1] + 1 and again["held"] == []
    text = Path(again["path"]).read_text(encoding="ascii")
    interchange = read_interchange(text)
    assert interchange.control_number == f"{again['control_number']:09d}"
    assert [f.control_number for f in ClaimFile.select().order_by(ClaimFile.id)] == [*numbers, numbers[-1] + 1]
    assert pyx12_errors(text) == []


def test_without_the_clinic_set_up_no_837_is_written_and_the_keys_are_named(database, tmp_path):
    import_claims(make_claims(1, seed=6))
    claims.requeue(Claim.select().first().id)
    result = claims.build_batch(out_dir=tmp_path)
    assert result["x12"] is False and result["claims_sent"] == 1 and "x12" not in result["batches"][0]
    assert "[clinic] npi" in result["x12_missing"]


def test_the_writer_writes_back_what_the_reader_read(database):
    """Every claim of a generated file (dependants, secondaries with 2430, modifiers, 12 diagnoses,
    replacements, providers) read and written again is the same claim, and pyx12 accepts it."""
    source = write_837p(make_claims(30, seed=6, dependants=True, secondary=True, modifiers=True,
                                    twelve_diagnoses=True, replacement=True, providers=True))
    read = parse_837p(source).claims
    ours = write_ours(read, Submission("CLINIC", "CLINIC01", "BILLING", "5555550100", "ACME", "ACMECH", 3,
                                       dt.datetime(2026, 12, 6, 9, 30), "T"))
    assert parse_837p(ours).claims == read
    assert pyx12_errors(ours) == []


def test_every_claim_of_the_demo_clinic_goes_out_valid_or_is_held_with_a_reason(demo_clinic, monkeypatch, tmp_path):
    """The demo's 1,700-odd claims (primaries, secondaries after Medicare, tertiaries to Medicaid,
    denials, dependants) as one 837P: pyx12 finds nothing; the few held name why."""
    path = tmp_path / "clinic.toml"
    path.write_text(clinic_section(Clinic(**CLINIC)), encoding="utf-8")
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(path))
    ids = [c.id for c in Claim.select(Claim.id)]
    ready, held = claim_export.assemble(ids)
    assert len(ready) + len(held) == len(ids) and len(held) < len(ids) // 50
    assert {claim.subscriber.sequence for _, claim in ready} == {"P", "S", "T"}
    assert all("is no longer the encounter's" in h.reason for h in held), [h.reason for h in held]
    text = write_ours([claim for _, claim in ready],
                      claim_export.submission(claim_export.config.load(), Payer.get_by_id(Claim.get_by_id(ready[0][0])
                                                                                          .payer_id), 9,
                                              dt.datetime(2026, 12, 6, 9, 30)))
    assert pyx12_errors(text) == []


def test_a_void_goes_with_frequency_8_and_the_payer_s_claim_number(database, clinic_config):
    generated = make_claims(3, seed=8, dependants=True)
    import_claims(generated)
    era_import.import_files([("remit.835", write_835(remittances_by_payer(generated)))])
    first = Claim.get(Claim.encounter == Encounter.get(Encounter.claim_no == generated[0].number).id)
    eob = Eob.get(Eob.encounter == first.encounter_id)
    with pytest.raises(Refused, match="say why"):
        claims.void(first.id, " ")
    made = claims.void(first.id, "billed to the wrong payer")
    assert made["voids"] == first.id and Claim.get_by_id(made["claim_id"]).voids
    with pytest.raises(Refused, match="already has a primary claim queued"):
        claims.void(first.id, "twice")
    (_, text), = batch_files(claims.build_batch(out_dir=clinic_config))
    assert f"CLM*{generated[0].number}*" in text and ":B:8*Y*A*Y*Y~" in text
    assert f"REF*F8*{eob.claim_ref}~" in text and eob.claim_ref
    assert pyx12_errors(text) == []
    # a claim the payer never adjudicated has nothing to void at the payer
    import_claims(make_claims(1, seed=9))
    never = Claim.select().where(Claim.status == "sent").order_by(Claim.id.desc()).first()
    with pytest.raises(Refused, match="nothing to void"):
        claims.void(never.id, "not seen")


def test_names_with_accents_go_out_in_latin_letters_and_a_name_x12_cannot_spell_is_held(database, clinic_config):
    """A payer's 837P is ASCII: "Núñez, José" goes as NUNEZ, JOSE and a full-width member id as its
    ASCII self; a name in a script with no Latin spelling holds that claim (naming it) and the
    batch goes without it. (Before, any accent in a batch stopped it with UnicodeEncodeError.)"""
    from claimdesk.core.models import Coverage, Patient

    made = make_claims(3, seed=12)
    import_claims(made)
    encounters = [Encounter.get(Encounter.claim_no == c.number) for c in made]
    for claim, enc in zip(made, encounters):
        claims.queue(enc, Payer.get(Payer.payer_code == claim.payer.payer_id), "primary")
    Patient.update(last_name="Núñez", first_name="José").where(Patient.id == encounters[0].patient_id).execute()
    Coverage.update(member_id="ＷＸ１２３").where(Coverage.patient == encounters[0].patient_id).execute()
    Patient.update(last_name="Жук", first_name="Ivan").where(Patient.id == encounters[1].patient_id).execute()

    result = claims.build_batch(out_dir=clinic_config)

    (held,) = result["held"]
    assert held["encounter_id"] == encounters[1].id
    assert held["reason"] == "a name or address on file 'Жук' has a letter an 837P cannot carry ('Ж'): " \
                             "enter it in Latin letters"
    assert result["claims_sent"] == 2
    texts = [t for _, t in batch_files(result)]
    assert any("NM1*IL*1*NUNEZ*JOSE****MI*WX123~" in t for t in texts), texts
    assert all(pyx12_errors(t) == [] and "Ж" not in t for t in texts)
