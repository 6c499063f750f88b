"""The rules a professional claim's fields follow (core/claim_rules.py), and the clinic's
``[clinic]`` config section that uses them. No database."""

from __future__ import annotations

import pytest

from claimdesk.core import claim_rules as r
from claimdesk.core import config
from claimdesk.core.demo.reference import CLINIC, NPI_BASE, NPI_STEP, PROVIDERS


# --- NPI -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_real_shaped_npis_pass_the_luhn_check_over_80840(npi):
    assert r.check_npi(f" {npi} ") == npi


@pytest.mark.parametrize("npi", ["1234567890", "1234567894", "1245319590"])
def test_an_npi_with_a_wrong_check_digit_is_refused_saying_so(npi):
    with pytest.raises(ValueError, match="not a valid NPI"):
        r.check_npi(npi)


@pytest.mark.parametrize("npi", ["123456789", "12345678901", "12345678a3", ""])
def test_an_npi_is_ten_digits(npi):
    with pytest.raises(ValueError, match="10 digits"):
        r.check_npi(npi)


def test_every_single_digit_typo_of_an_npi_is_caught():
    good = "1234567893"
    for i in range(10):
        for d in "0123456789":
            typo = good[:i] + d + good[i + 1:]
            if typo != good:
                with pytest.raises(ValueError):
                    r.check_npi(typo)


def test_made_up_npis_are_valid_and_the_demo_makes_valid_ones():
    assert r.make_npi(123456789) == "1234567893"
    for i in range(len(PROVIDERS)):
        assert r.check_npi(r.make_npi(NPI_BASE + NPI_STEP * i))
    assert r.check_npi(CLINIC["npi"])


# --- identifiers and addresses ----------------------------------------------------------------
def test_tax_ids_taxonomies_states_and_zips():
    assert r.check_tax_id("93-1234567") == r.check_tax_id("931234567") == "931234567"
    assert r.check_tax_id("123-45-6789") == "123456789"
    assert r.check_taxonomy("207q00000x") == "207Q00000X"
    assert r.check_state(" or ") == "OR"
    assert r.check_zip("97402-1234") == "974021234" and r.check_zip("97402") == "97402"
    for rule, bad in ((r.check_tax_id, "12-345678"), (r.check_taxonomy, "207Q00000"), (r.check_state, "XX"),
                      (r.check_zip, "9740")):
        with pytest.raises(ValueError):
            rule(bad)


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")  # (what a Japanese keyboard types)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_digits_of_other_scripts_are_refused_where_a_claim_needs_0_to_9(digits):
    """Python's \\d is every script's digits; an 837P carries 0-9 only (a payer refuses the file)."""
    npi = r.make_npi(123456789)
    assert r.check_npi(npi) == npi
    for rule, good in ((r.check_npi, npi), (r.check_tax_id, "931234567"), (r.check_zip, "97402"),
                       (r.check_place_of_service, "11"), (r.check_taxonomy, "207Q00000X"),
                       (r.check_diagnosis, "E11.9"), (r.check_service_code, "99213")):
        rule(good)
        with pytest.raises(ValueError):
            rule(good.translate(digits))
    assert r.split_address("1 Main St, Bend, OR " + "97708".translate(digits)) is None


def test_a_one_line_address_splits_into_its_parts():
    assert r.split_address("PO Box 1000, Capital City, OR 97301") == ("PO Box 1000", "Capital City", "OR", "97301")
    assert r.split_address("1 Main St, Suite 2, Bend, or 97708-1234") == ("1 Main St, Suite 2", "Bend", "OR",
                                                                          "977081234")
    assert r.split_address("somewhere") is None and r.split_address("1 Main St, Bend, ZZ 97708") is None


# --- diagnoses, procedures, modifiers, pointers ------------------------------------------------
@pytest.mark.parametrize("typed, stored, shown", [
    ("E11.9", "E119", "E11.9"), ("e119", "E119", "E11.9"), ("I10", "I10", "I10"), ("S46.011A", "S46011A", "S46.011A"),
    ("C4A.0", "C4A0", "C4A.0"), ("Z00.00", "Z0000", "Z00.00"),
])
def test_icd10_codes_are_stored_without_the_dot_and_shown_with_it(typed, stored, shown):
    assert r.check_diagnosis(typed) == stored
    assert r.show_diagnosis(stored) == shown


@pytest.mark.parametrize("bad", ["E1", "11.9", "E11.", "E11.12345", "EE19", "E11-9", ""])
def test_what_is_not_an_icd10_code_is_refused(bad):
    with pytest.raises(ValueError, match="not an ICD-10-CM code"):
        r.check_diagnosis(bad)


def test_service_codes_by_kind():
    assert r.check_service_code("99213") == ("99213", "cpt")
    assert r.check_service_code("0001f") == ("0001F", "cpt")
    assert r.check_service_code("j1030") == ("J1030", "hcpcs")
    assert r.check_service_code("RCFEE", "office") == ("RCFEE", "office")
    assert r.check_service_code("99211-NC", "office") == ("99211-NC", "office")
    with pytest.raises(ValueError, match="office fee code needs kind office"):
        r.check_service_code("RCFEE")
    with pytest.raises(ValueError, match="not a HCPCS code"):
        r.check_service_code("99213", "hcpcs")
    with pytest.raises(ValueError, match="not a CPT code"):
        r.check_service_code("W1234", "cpt")  # HCPCS letters stop at V


def test_modifiers_and_pointers():
    assert r.check_modifier("gp") == "GP" and r.check_modifier("25") == "25"
    with pytest.raises(ValueError):
        r.check_modifier("2")
    assert r.check_pointers([1, 3], diagnoses=3) == [1, 3]
    for pointers, says in (([4], "has only 3"), ([1, 1], "twice"), ([1, 2, 3, 1, 2], "at most"), ([13], "1 to 12"),
                           ([0], "1 to 12")):
        with pytest.raises(ValueError, match=says):
            r.check_pointers(pointers, diagnoses=3)
    with pytest.raises(ValueError, match="no diagnoses"):
        r.check_pointers([1], diagnoses=0)
    assert r.split_pointers(r.join_codes([1, 2])) == [1, 2] and r.split_codes("") == []


def test_claim_and_line_control_numbers():
    assert r.check_claim_no(" CD1042 ") == "CD1042"
    assert r.check_control_no("1042-1.a/b_c") == "1042-1.a/b_c"
    for bad in ("A" * 21, "CD*1", "", "-1", "a~b"):
        with pytest.raises(ValueError, match="claim number"):
            r.check_claim_no(bad)
    assert r.check_place_of_service("11") == "11"
    with pytest.raises(ValueError):
        r.check_place_of_service("1")


# --- the X12 code mappings -------------------------------------------------------------------------
def test_one_relationship_mapping_both_ways():
    assert {w: r.relationship_code(w) for w in r.RELATIONSHIPS} == {"self": "18", "spouse": "01", "child": "19",
                                                                  "other": "G8"}
    assert [r.relationship_word(c) for c in ("18", "01", "19", "G8", "g8", "20", "53")] == [
        "self", "spouse", "child", "other", "other", "other", "other"]
    from claimdesk.core.plugins.forms import RELATIONSHIPS as form_choices

    assert list(form_choices) == list(r.RELATIONSHIPS)  # the action forms offer the same words


def test_plan_types_default_from_the_payer_kind():
    assert [r.plan_type_for(k) for k in ("medicare", "medicaid", "commercial", "workers_comp", "patient")] == [
        "MB", "MC", "CI", "WC", ""]
    assert r.plan_type_for("commercial", "BL") == "BL"
    assert r.check_plan_type("hm") == "HM" and r.check_plan_type("16") == "16"
    with pytest.raises(ValueError, match="claim filing indicator"):
        r.check_plan_type("XX")


# --- the clinic as billing provider (config) ----------------------------------------------------------
def _load(tmp_path, monkeypatch, text: str) -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(path))
    return config.load(db=str(tmp_path / "x.db"), user="tester")


def test_the_demo_clinic_section_loads_checked_and_cleaned(tmp_path, monkeypatch):
    clinic = config.Clinic(**CLINIC)
    settings = _load(tmp_path, monkeypatch, config.clinic_section(clinic))
    assert settings.clinic.name == "Riverbend Family Medicine"
    assert (settings.clinic.npi, settings.clinic.tax_id, settings.clinic.zip) == (CLINIC["npi"], "931234567",
                                                                                  "974021234")


@pytest.mark.parametrize("key, value, says", [
    ("npi", "1234567890", "not a valid NPI"), ("tax_id", "12-34", "9 digits"), ("state", "Oregon", "postal code"),
    ("taxonomy", "family", "ending in X"), ("zip", "ABCDE", "ZIP"),
])
def test_a_bad_clinic_value_is_refused_naming_the_key(tmp_path, monkeypatch, key, value, says):
    with pytest.raises(config.ConfigError, match=says) as exc:
        _load(tmp_path, monkeypatch, f'[clinic]\nname = "X"\n{key} = "{value}"\n')
    assert f"[clinic] {key}" in str(exc.value)


def test_no_clinic_section_is_an_empty_clinic(tmp_path, monkeypatch):
    assert _load(tmp_path, monkeypatch, "").clinic == config.Clinic()
