"""Generated 837P files pass a real validator (pyx12) with zero errors; and the reader reads them.

pyx12 is a test-only dependency. Two negative controls show the validator does look:
a file missing a required segment and one using an undeclared component separator are
both rejected by pyx12, while claimdesk's forgiving reader reads the latter like the
declared form (with a warning).
"""

from __future__ import annotations

import io
import json

import pytest
import pyx12.params
import pyx12.x12n_document

from claimdesk.core.x12 import Delimiters, read_interchange

from tests.x12gen import generate_837p, make_claims, write_837p


def pyx12_errors(text: str) -> list[str]:
    """Every error pyx12 reports for ``text`` (an empty list means the file is valid)."""
    out_json, out_999 = io.StringIO(), io.StringIO()
    valid = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=out_999, fd_html=None, fd_json=out_json,
    )
    errors: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "errors":
                    errors.extend(json.dumps(e, default=str) for e in value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(out_json.getvalue()))
    if not valid and not errors:
        errors.append("pyx12 found the file invalid: " + out_999.getvalue())
    if "IK5*A" not in out_999.getvalue().replace("\n", ""):
        errors.append("the 999 does not accept the transaction: " + out_999.getvalue())
    return errors


VARIANTS = {
    "plain": dict(count=3),
    "dependants": dict(count=6, dependants=True, seed=2),
    "secondary payer (2320/2330A/2330B/2430)": dict(count=9, secondary=True, dependants=True, seed=3),
    "modifiers and 12 diagnoses": dict(count=8, modifiers=True, twelve_diagnoses=True, seed=4),
    "replacement claims, several transaction sets": dict(
        count=10, replacement=True, write_options={"claims_per_transaction": 3}, seed=5),
    "everything, 40 claims": dict(count=40, dependants=True, secondary=True, modifiers=True, twelve_diagnoses=True,
                                  replacement=True, seed=6),
    "bad claim (CLM02 != sum of SV102) is still valid X12": dict(count=4, bad=(1,), seed=7),
    "pipe, >, ! and newline delimiters": dict(
        count=5, dependants=True, secondary=True, seed=8,
        write_options={"delimiters": Delimiters("|", ">", "!", "\n"), "line_break": ""}),
    "one line, no line breaks": dict(count=5, modifiers=True, seed=9, write_options={"line_break": ""}),
    "CRLF line breaks": dict(count=5, secondary=True, seed=10, write_options={"line_break": "\r\n"}),
}


@pytest.mark.parametrize("options", list(VARIANTS.values()), ids=list(VARIANTS))
def test_generated_837p_passes_pyx12_with_zero_errors(options):
    text = generate_837p(**options)
    assert pyx12_errors(text) == []
    ic = read_interchange(text)
    assert ic.warnings == []
    assert sum(s.tag == "CLM" for s in ic.segments) == options["count"]


def test_the_bad_claim_is_bad_only_in_its_sums():
    claims = make_claims(4, bad=(1,), seed=7)
    ic = read_interchange(write_837p(claims))
    clms = [s for s in ic.segments if s.tag == "CLM"]
    assert clms[1].amount(2) == sum(line.charge for line in claims[1].lines) + 1000
    assert clms[0].amount(2) == sum(line.charge for line in claims[0].lines)


def test_an_undeclared_component_separator_fails_pyx12_but_reads_like_the_declared_one():
    options = dict(count=6, dependants=True, secondary=True, modifiers=True, twelve_diagnoses=True, seed=11)
    declared = generate_837p(**options)
    forgiven = generate_837p(**options, write_options={"component_used": ">"})
    assert "HC>" in forgiven and "ISA" in forgiven and forgiven.split("~")[0].endswith(":")
    assert pyx12_errors(forgiven) != []  # a strict validator refuses it: real payers still send it
    a, b = read_interchange(declared), read_interchange(forgiven)
    composites = {"CLM": [5], "HI": range(1, 13), "SV1": [1, 7], "SVD": [3]}
    for left, right in zip(a.segments, b.segments, strict=True):
        for index in composites.get(left.tag, []):
            assert left.components(index) == right.components(index)
    assert a.warnings == []
    names = sorted(str(w).split(" used in ")[1].split(";")[0] for w in b.warnings)
    assert names == sorted({"CLM05", "SV101", "SV107", "SVD03", *[f"HI{i:02d}" for i in range(1, 13)]})


def test_pyx12_does_check_the_generated_files():
    text = generate_837p(3)
    broken = text.replace("DTP*472*D8*", "DTP*472*XX*", 1)
    assert any("472" in e or "DTP" in e or "XX" in e for e in pyx12_errors(broken))
    missing = text.replace("REF*EI*123456789~\n", "", 1)
    assert pyx12_errors(missing) != []
