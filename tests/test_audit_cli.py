"""``claimdesk audit``: every payment on an encounter shows under ``--encounter``; ``--json`` keeps inputs and result.

Credits, batch posting and returned checks name a patient or a voucher, not an
encounter: their events must still be found through the charges they posted to.
"""

from __future__ import annotations

import json

from claimdesk.core.models import AuditEvent

from tests import builders as b


def test_audit_for_an_encounter_shows_every_workflow_that_posted_to_its_charges(cli, tmp_path):
    pat, other = b.patient(), b.patient("Roe", "Kim")
    apex = b.payer("Apex Health")
    enc, (charge, _) = b.encounter(pat, [110_00, 40_00], payers=[apex])
    elsewhere, _ = b.encounter(other, [75_00], payers=[apex])
    eob_check = b.voucher(apex, 80_00)
    cli.json("eob", "post", "--data", json.dumps({
        "encounter_id": enc.id, "payer_id": apex.id, "voucher_id": eob_check,
        "lines": [{"charge_id": charge.id, "allowed": "100.00", "paid": "80.00",
                   "adjustments": [{"group_code": "CO", "reason_code": "45", "amount": "10.00"},
                                   {"group_code": "PR", "reason_code": "2", "amount": "20.00"}]}]}))
    # the patient pays their $20.00 share with a check that is later returned
    pat_check = b.voucher(None, 25_00)
    credit = cli.json("credit", "post", "--patient", str(pat.id), "--voucher", str(pat_check))["credit"]
    returned = cli.json("check", "return", str(pat_check), "--reason", "NSF")
    # a lockbox batch pays both patients from one payer check
    lockbox = b.voucher(apex, 30_00)
    lines = tmp_path / "lines.csv"
    lines.write_text(f"patient_id,amount\n{pat.id},10.00\n{other.id},20.00\n")
    batch = cli.json("payments", "post-batch", "--voucher", str(lockbox), "--file", str(lines))
    unrelated = b.voucher(None, 9_00)  # touches nobody's charges

    events = cli.json("audit", "--encounter", str(enc.id))
    by_id = {e["audit_id"]: e for e in events}
    assert [e["action"] for e in events] == ["credit.post_batch", "check.return", "credit.post", "eob.post",
                                             "test.encounter"]
    assert {credit["audit_id"], returned["audit_id"], batch["audit_id"]} <= set(by_id)
    assert by_id[credit["audit_id"]]["encounter_id"] is None  # found through its postings, not its encounter
    # --json carries what a clerk entered and what the workflow answered
    assert by_id[credit["audit_id"]]["inputs"]["voucher_id"] == pat_check
    assert by_id[credit["audit_id"]]["result"]["credit_id"] == credit["credit_id"]
    assert by_id[returned["audit_id"]]["inputs"]["reason"] == "NSF"
    assert by_id[returned["audit_id"]]["result"]["credits_zeroed"] == [credit["credit_id"]]
    assert by_id[batch["audit_id"]]["result"]["entries"] == batch["entries"]

    theirs = [e["action"] for e in cli.json("audit", "--encounter", str(elsewhere.id))]
    assert theirs == ["credit.post_batch", "test.encounter"]  # the batch paid them too; nothing else did
    assert unrelated not in {e["inputs"].get("voucher_id") for e in events}
    assert [e["action"] for e in cli.json("audit", "--encounter", f"E{enc.id}", "--limit", "2")] == [
        "credit.post_batch", "check.return"]
    assert cli.json("audit", "--encounter", str(enc.id), "--user", "nobody") == []
    assert len(cli.json("audit", "--encounter", str(enc.id), "--user", "tester")) == 5


def test_audit_json_lists_every_event_with_inputs_and_result_newest_first(cli):
    pat = b.patient()
    vid = b.voucher(None, 12_00)
    res = cli.json("credit", "post", "--patient", str(pat.id), "--voucher", str(vid), "--keep-unapplied")["credit"]
    newest = cli.json("audit", "--limit", "1")[0]
    assert newest["action"] == "credit.post" and newest["audit_id"] == res["audit_id"]
    assert set(newest) == {"audit_id", "at", "user", "action", "encounter_id", "patient_id", "entries", "reason",
                           "inputs", "result"}
    assert newest["inputs"]["keep_unapplied"] is True and newest["result"]["credit_id"] == res["credit_id"]
    assert newest["entries"] == AuditEvent.get_by_id(res["audit_id"]).entries == res["entries"]


def test_audit_for_an_unknown_encounter_is_one_clear_line(cli):
    code, out, err = cli("audit", "--encounter", "99999", "--json")
    assert code == 3 and out == "" and err.strip() == "claimdesk: error: encounter_id: no encounter with ID 99999"
