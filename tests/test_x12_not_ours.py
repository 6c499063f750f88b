"""Files that are not the clinic's books: an 837P or 835 its sender marked as test data (ISA15 T),
a payer's 835 paying another practice (its payee, N1*PE, is not the clinic), and a second payment
under a trace number (TRN02) already posted. None is put on the books: the clerk reads why, and
nothing is written; a training copy of the database may take test files
(``[edi] accept_test_files``). Both engines."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from claimdesk.core import config
from claimdesk.core.models import Charge, Encounter, Patient, Provider, Voucher
from claimdesk.core.models.remits import RemitFile, RemitPayment
from claimdesk.core.money import Cents, fmt
from claimdesk.core.services import claim_import, era_import, verify
from claimdesk.core.x12.remittance import Payee

from tests.x12gen import make_claims, npi, write_837p
from tests.x12gen835 import PAYEE, remittances_by_payer, write_835

CLINIC_NPI, CLINIC_TAX_ID = PAYEE.npi, PAYEE.tax_id  # (the clinic the generated files bill and pay)
OTHER_NPI = npi(55501234)
TABLES = (Patient, Encounter, Charge, Voucher, RemitFile, RemitPayment)


def counts() -> dict:
    return {m.__name__: m.select().count() for m in TABLES}


def configure(text: str) -> None:
    """Write the config file the session reads (the test's own, empty until now)."""
    Path(os.environ["CLAIMDESK_CONFIG"]).write_text(text, encoding="utf-8")


def another_practice(remittance):
    """``remittance`` paying another practice: its payee's name, NPI and tax id changed."""
    return dataclasses.replace(remittance, payee=Payee("LAKESIDE ORTHOPEDICS", "XX", OTHER_NPI, None,
                                                       (("TJ", "987654321"),)))


# --- test data (ISA15 T) -------------------------------------------------------------------------

def test_an_837p_marked_as_test_data_imports_nothing_and_says_why(database):
    text = write_837p(make_claims(5, seed=4), usage="T")
    before = counts()
    for report in (claim_import.preview([("ehr-test.837", text)]), claim_import.import_files([("ehr-test.837", text)])):
        file = report.files[0]
        assert "marked it as test data (ISA15 T)" in file.error and "[edi] accept_test_files = true" in file.error
        assert (file.error_segment, file.error_line, file.imported) == ("ISA", 1, [])
    assert counts() == before

    configure("[edi]\naccept_test_files = true\n")  # a training copy of the database
    report = claim_import.import_files([("ehr-test.837", text)])
    assert report.files[0].error is None and len(report.files[0].imported) == 5
    assert counts()["Encounter"] == before["Encounter"] + 5


def test_an_835_marked_as_test_data_posts_no_money(database):
    claims = make_claims(6, seed=3, dependants=True)
    claim_import.import_files([("claims.837", write_837p(claims))])
    text = write_835(remittances_by_payer(claims), usage="T")
    before = counts()
    for report in (era_import.preview([("test.835", text)]), era_import.import_files([("test.835", text)])):
        assert "marked it as test data (ISA15 T)" in report.files[0].error
        assert report.payments == [] and not report.ok
    assert counts() == before  # no voucher: the clinic received none of that money

    configure("[edi]\naccept_test_files = true\n")
    report = era_import.import_files([("test.835", text)])
    assert report.ok and {p.status for p in report.payments} == {"posted"}
    assert [str(v) for v in verify.verify()] == []


def test_the_switch_for_test_files_is_true_or_false(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text('[edi]\naccept_test_files = "yes"\n', encoding="utf-8")
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(path))
    with pytest.raises(config.ConfigError) as refused:
        config.load()
    assert "[edi] accept_test_files" in str(refused.value) and "true or false" in str(refused.value)
    path.write_text("[edi]\naccept_test_files = true\n", encoding="utf-8")
    assert config.load().edi.accept_test_files is True


# --- another practice's payment (N1*PE) ----------------------------------------------------------

@pytest.fixture
def claims(database):
    """Six claims of the clinic imported; what the 835s below answer."""
    made = make_claims(6, seed=3, dependants=True)
    claim_import.import_files([("claims.837", write_837p(made))])
    return made


def test_a_payment_to_another_practice_is_refused_whole(claims):
    configure(f'[clinic]\nnpi = "{CLINIC_NPI}"\n')
    ours, theirs = remittances_by_payer(claims)[:2]
    before = counts()
    report = era_import.import_files([("mixed.835", write_835([ours, another_practice(theirs)]))])
    posted, refused = report.payments
    assert posted.status == "posted" and refused.status == "refused"
    assert refused.reason.startswith(f"the payee (N1*PE) is LAKESIDE ORTHOPEDICS, NPI {OTHER_NPI} and tax id "
                                     f"98-7654321: not this clinic (NPI {CLINIC_NPI})")
    assert "return it to the payer or clearinghouse (if the clinic is paid under that number, give it to its " \
           "provider under Clinic setup" in refused.reason
    after = counts()
    assert after["Voucher"] == before["Voucher"] + 1 and after["RemitPayment"] == before["RemitPayment"] + 1
    assert Voucher.select().where(Voucher.reference == theirs.trace_number).count() == 0
    assert [str(v) for v in verify.verify()] == []


@pytest.mark.parametrize("clinic", [
    pytest.param(f'npi = "{CLINIC_NPI}"', id="the clinic's NPI"),
    pytest.param(f'tax_id = "{CLINIC_TAX_ID[:2]}-{CLINIC_TAX_ID[2:]}"', id="the clinic's tax id (REF*TJ)"),
    pytest.param(f'npi = "{OTHER_NPI}"\ntax_id = "{CLINIC_TAX_ID}"', id="another NPI, the clinic's tax id"),
    pytest.param("", id="no clinic set up: not checked"),
])
def test_a_payment_to_the_clinic_posts(claims, clinic):
    configure(f"[clinic]\n{clinic}\n")
    report = era_import.import_files([("remit.835", write_835(remittances_by_payer(claims)))])
    assert report.ok and {p.status for p in report.payments} == {"posted"}


def test_a_payment_to_one_of_the_clinics_providers_posts(claims):
    """A clinic may be paid under a provider's own NPI; a referring doctor's is not the clinic's."""
    configure(f'[clinic]\nnpi = "{npi(44401234)}"\n')
    remittance = another_practice(remittances_by_payer(claims)[0])
    Provider.create(name="Dr Referrer", npi=OTHER_NPI, kind="referring")
    refused = era_import.preview([("remit.835", write_835([remittance]))]).payments[0]
    assert refused.status == "refused" and f"NPI {OTHER_NPI}" in refused.reason
    Provider.update(kind="clinical").where(Provider.npi == OTHER_NPI).execute()
    assert era_import.import_files([("remit.835", write_835([remittance]))]).payments[0].status == "posted"


def test_the_cli_says_why_a_test_file_and_another_practices_payment_are_not_posted(cli, tmp_path):
    made = make_claims(4, seed=3, dependants=True)
    (tmp_path / "claims.837").write_text(write_837p(made), encoding="utf-8")
    cli.ok("import", "837", str(tmp_path / "claims.837"))
    (tmp_path / "test.837").write_text(write_837p(make_claims(2, seed=9), usage="T"), encoding="utf-8")
    code, out, err = cli("import", "837", str(tmp_path / "test.837"))
    assert code != 0 and "marked it as test data (ISA15 T)" in out + err

    configure(f'[clinic]\nnpi = "{CLINIC_NPI}"\n')
    (tmp_path / "other.835").write_text(write_835([another_practice(remittances_by_payer(made)[0])]), encoding="utf-8")
    code, out, _err = cli("era", "import", str(tmp_path / "other.835"), "--json")
    payment = json.loads(out)["files"][0]["payments"][0]
    assert code != 0 and payment["status"] == "refused" and "LAKESIDE ORTHOPEDICS" in payment["reason"]
    assert cli.json("era", "exceptions")["exceptions"] == []


# --- one trace number, one payment (TRN02) -------------------------------------------------------

def test_a_trace_number_posted_before_for_another_amount_is_refused(claims):
    """TRN02 names one payment between a payer and the clinic: a second payment under it (another
    amount) would count the check twice."""
    whole = remittances_by_payer(claims)[0]
    assert len(whole.claims) >= 2
    first, second = (dataclasses.replace(whole, claims=part, amount=Cents(sum(c.paid for c in part)))
                     for part in (whole.claims[:1], whole.claims[1:]))
    assert era_import.import_files([("a.835", write_835([first]))]).payments[0].status == "posted"
    before = counts()
    for report in (era_import.preview([("b.835", write_835([second]))]),
                   era_import.import_files([("b.835", write_835([second]))])):
        refused = report.payments[0]
        assert refused.status == "refused" and refused.payer_id is not None
        assert refused.reason.startswith(f"TRN02: trace number {whole.trace_number} was posted on ")
        assert f"from a.835 for {fmt(first.amount)}, where this one is {fmt(second.amount)}" in refused.reason
    assert counts() == before
    assert [str(v) for v in verify.verify()] == []


def test_a_trace_number_reused_with_other_claims_is_refused_not_called_posted(claims):
    """A payer that reuses a trace number for another remittance of the same amount (a zero-pay
    one, say) is refused with the reason: calling it "already posted" would lose its claims."""
    first = remittances_by_payer(claims)[0]
    renamed = tuple(dataclasses.replace(c, payer_claim_number=f"X{c.payer_claim_number}") for c in first.claims)
    other = dataclasses.replace(first, claims=renamed)
    era_import.import_files([("a.835", write_835([first]))])
    again = era_import.import_files([("a-again.835", write_835([first]))]).payments[0]
    assert again.status == "already"  # the very same payment: where it went
    before = counts()
    refused = era_import.import_files([("b.835", write_835([other]))]).payments[0]
    assert refused.status == "refused" and "from a.835 with other claims" in refused.reason
    assert counts() == before


# --- a file given to the other import ------------------------------------------------------------

def test_a_file_given_to_the_wrong_import_says_where_it_goes(database):
    claims = make_claims(3, seed=3)
    claim_text, remit_text = write_837p(claims), write_835(remittances_by_payer(claims))
    before = counts()
    (era,) = era_import.import_files([("claims.837", claim_text)]).files
    assert era.error == ("claims.837 holds no 835 remittance (ST01 835); it holds 837 claims (import them with "
                         "Import 837: claimdesk import 837)")
    (imported,) = claim_import.import_files([("remit.835", remit_text)]).files
    assert "holds no 837 transaction set; it holds 835 remittances (post them with Post ERA: claimdesk era import)" \
        in imported.error
    assert counts() == before
