"""Damaged files from the outside world: whatever an 837P or 835 holds after a segment is lost,
doubled or moved, an element is emptied, cut, lengthened past what X12 allows or replaced by
garbage, or the file is cut short, claimdesk reads it or refuses it by name (the element, the
segment and the line), never with a crash, on either engine, and a preview writes nothing."""

from __future__ import annotations

import random

import peewee
import pytest
from hypothesis import given, settings, strategies as st

from claimdesk.core import db
from claimdesk.core.models import ALL_MODELS, Encounter, JournalEntry, Posting
from claimdesk.core.services import claim_import, era_import, verify
from claimdesk.core.validation import text_problem
from claimdesk.core.x12 import Delimiters, X12Error, read_interchange, read_interchanges
from claimdesk.core.x12.claims837_reader import parse_837p
from claimdesk.core.x12.remittance_reader import read_remittances

from tests.x12gen import make_claims, write_837p
from tests.x12gen835 import remittances_by_payer, write_835

CLAIMS = make_claims(8, seed=3, dependants=True, secondary=True, next_payer=True, modifiers=True, providers=True)
CLAIMS_837 = write_837p(CLAIMS, control_number=5)
REMITS_835 = write_835(remittances_by_payer(CLAIMS), control_number=5)
#: What a damaged element may hold instead.
GARBAGE = ("", "X", "-1", "0", "1E5", "9" * 20, "20261399", "2026-01-01", "1.2.3", ".", "NaN", "١٢", " ", "1,000",
           "0.001", "+5", "ZZ", "\x00", "é", "L" * 300)
#: A damaged segment's operations: lose it, double it, move it, or change one of its elements.
KINDS = ("drop", "double", "swap", "garbage", "cut", "insert", "truncate")

mutation = st.tuples(st.sampled_from(KINDS), st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(GARBAGE))


def damaged(text: str, mutations) -> str:
    """``text`` with each of ``mutations`` (kind, a segment, an element or position, garbage) done."""
    for kind, a, b, junk in mutations:
        if len(text) < 106:
            return text
        terminator, separator = text[105], text[3]
        segments = text.split(terminator)
        i = a % len(segments)
        if kind == "truncate":
            text = text[:a % len(text)]
            continue
        if kind == "insert":
            pos = a % len(text)
            text = text[:pos] + (junk[:1] or terminator) + text[pos:]
            continue
        if kind == "drop":
            del segments[i]
        elif kind == "double":
            segments.insert(i, segments[b % len(segments)])
        elif kind == "swap":
            j = b % len(segments)
            segments[i], segments[j] = segments[j], segments[i]
        else:
            elements = segments[i].split(separator)
            if len(elements) > 1:
                j = 1 + b % (len(elements) - 1)
                elements[j] = junk if kind == "garbage" else elements[j][:b % (len(elements[j]) + 1)]
                segments[i] = separator.join(elements)
        text = terminator.join(segments)
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(mutation, min_size=1, max_size=3))
def test_a_damaged_837p_is_read_or_refused_by_name(mutations):
    try:
        claim_file = parse_837p(damaged(CLAIMS_837, mutations))
    except X12Error as error:
        assert "segment " in str(error) or error.tag is None
        return
    for refused in claim_file.refused:
        assert refused.reason and refused.line


@settings(max_examples=300, deadline=None)
@given(st.lists(mutation, min_size=1, max_size=3))
def test_a_damaged_835_is_read_or_refused_by_name(mutations):
    try:
        read_remittances(read_interchange(damaged(REMITS_835, mutations)))
    except X12Error as error:
        assert "segment " in str(error) or error.tag is None


#: Two interchanges joined as a clearinghouse's download joins them, the second with delimiters of its own.
JOINED_835 = REMITS_835 + "\r\n" + write_835(remittances_by_payer(CLAIMS)[:1], control_number=6,
                                              delimiters=Delimiters("|", ">", "^", "'"))


@settings(max_examples=300, deadline=None)
@given(st.lists(mutation, max_size=3), st.sampled_from([0, 40, 80, 132]), st.integers(0, 10**6),
       st.sampled_from(["none", "drop line", "split line", "join lines", "pad"]))
def test_a_damaged_joined_or_wrapped_835_is_read_or_refused_by_name(mutations, width, where, line_damage):
    """The same, for a download of two interchanges, delivered wrapped (``width``) or not, its
    lines damaged too: every interchange is read or the file refused by name."""
    text = damaged(JOINED_835, mutations)
    if width:
        flat = text.replace("~\n", "~").replace("'\n", "'").replace("\r\n", "")
        lines = [flat[i:i + width] for i in range(0, len(flat), width)]
        k = where % max(len(lines), 1)
        if lines and line_damage == "drop line":
            del lines[k]
        elif lines and line_damage == "split line":
            lines[k:k + 1] = [lines[k][:width // 2], lines[k][width // 2:]]
        elif len(lines) > 1 and line_damage == "join lines":
            lines[k:k + 2] = ["".join(lines[k:k + 2])]
        text = "\n".join(lines) + ("\x00" * 30 if line_damage == "pad" else "\n")
    try:
        for interchange in read_interchanges(text):
            read_remittances(interchange)
    except X12Error as error:
        assert "segment " in str(error) or error.tag is None


def test_the_imports_preview_damaged_files_without_a_crash_and_write_nothing(database):
    # (a preview of an 835 posts for real in a transaction it then rolls back: what the database
    # would refuse, a value too long for its column on PostgreSQL, shows here)
    (f,) = claim_import.import_files([("claims.837", CLAIMS_837)]).files
    assert len(f.imported) == len(CLAIMS)
    others = write_837p(make_claims(8, seed=4, dependants=True, secondary=True, providers=True), control_number=6)
    before = (Encounter.select().count(), JournalEntry.select().count(), Posting.select().count())
    rng = random.Random(2026)
    outcomes = {"837": set(), "835": set()}
    for _ in range(40):
        mutations = [(rng.choice(KINDS), rng.randrange(10**6), rng.randrange(10**6), rng.choice(GARBAGE))
                     for _ in range(rng.randint(1, 3))]
        (claims,) = claim_import.preview([("damaged.837", damaged(others, mutations))]).files
        outcomes["837"].add("file refused" if claims.error else "claims refused" if claims.refused else "read")
        assert all(r.reason for r in claims.refused)
        (remits,) = era_import.preview([("damaged.835", damaged(REMITS_835, mutations))]).files
        statuses = {p.status for p in remits.payments}
        outcomes["835"].add("file refused" if remits.error else "payment refused" if "refused" in statuses else "read")
        assert all(p.reason for p in remits.payments if p.status == "refused")
    assert outcomes == {"837": {"file refused", "claims refused", "read"},
                        "835": {"file refused", "payment refused", "read"}}
    assert (Encounter.select().count(), JournalEntry.select().count(), Posting.select().count()) == before
    assert verify.verify() == []


def every_element_set_to(text: str, value: str):
    """(tag, element, the file with that element set to ``value``) for every non-empty element of
    every segment between ST and SE."""
    terminator, separator = text[105], text[3]
    segments = text.split(terminator)
    for i, segment in enumerate(segments):
        elements = segment.split(separator)
        tag = elements[0].strip()
        if tag in ("ISA", "GS", "ST", "SE", "GE", "IEA", ""):
            continue
        for j in range(1, len(elements)):
            if elements[j]:
                changed = [*elements[:j], value, *elements[j + 1:]]
                yield tag, j, terminator.join([*segments[:i], separator.join(changed), *segments[i + 1:]])


def stored_text_faults() -> list[tuple[str, str]]:
    """(table.column, what is wrong) of every text column holding a value longer than the column
    allows (SQLite keeps it; PostgreSQL refuses it) or a character no text may hold."""
    faults = []
    for model in ALL_MODELS:
        for field in model._meta.sorted_fields:
            if isinstance(field, peewee.CharField) and field.max_length:
                table, column = model._meta.table_name, field.column_name
                for (value,) in db.sql(f'SELECT DISTINCT "{column}" FROM "{table}"'):
                    if value and len(value) > field.max_length:
                        faults.append((f"{table}.{column}", f"{len(value)} characters, the column holds {field.max_length}"))
                    elif value and text_problem(value):
                        faults.append((f"{table}.{column}", f"{value!r} {text_problem(value)}"))
    return faults


@pytest.mark.parametrize("value", ["L" * 300, "SMITH\u202eGNP", "JO\x07NES"], ids=["too long", "bidi", "control"])
def test_every_element_of_a_claim_or_a_payment_holding_what_no_value_may_is_refused_never_stored(database, value):
    # (a value longer than X12 allows once reached the database: PostgreSQL refused the whole
    # import with "value too long", SQLite stored it; a name with a bidirectional or other
    # control character, which a clerk's form refuses, was imported as it came)
    claims = make_claims(1, seed=5, dependants=True, secondary=True, providers=True)
    claims[0].number = "BADBASE"
    checked = 0
    for k, (tag, element, text) in enumerate(every_element_set_to(write_837p(claims, control_number=7), value)):
        text = text.replace("CLM*BADBASE*", f"CLM*BAD{k}*")  # (a claim of its own: never skipped as imported)
        (f,) = claim_import.import_files([(f"bad{k}.837", text)]).files
        assert f.error or f.imported or f.refused, (tag, element)
        assert all(r.reason for r in f.refused)
        checked += 1
    for tag, element, text in every_element_set_to(REMITS_835, value):
        (f,) = era_import.preview([("bad.835", text)]).files
        assert f.error or f.payments, (tag, element)
        checked += 1
    assert checked > 300
    assert stored_text_faults() == []
    assert verify.verify() == []
