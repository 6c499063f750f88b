"""Matching an 837P file's claims to the records on file, never guessing (the import's rules):

* a payer by its payer id (NM109 of NM1*PR, loops 2010BB and 2330B);
* a provider (rendering, referring, a line's own rendering) by NPI;
* a service code by its code;
* a patient by member id + name + date of birth: a patient with a coverage holding one of the
  claim's member ids (any payer's) and the same last and first name (case aside) and birth date.
  Two such patients: ambiguous, the claim is refused and both are listed. None, but a patient
  with that name and birth date (and no coverage with those member ids): ambiguous too (the same
  person with a coverage not on file, or another person), refused and listed; the clerk adds
  the coverage to that patient (or registers the other person with it) and imports again;
* a coverage by patient, payer and member id (an active one).

The names, ids and addresses a claim carries fit their columns as they are: the reader refused
any longer than X12 allows (:mod:`claimdesk.core.x12.limits`); only what the import joins or
falls back on is cut to size here.

What is not found is made: a payer (kind from the plan type, SBR09; a name another payer holds
gets the payer id after it), a provider (clinical, or referring when it only refers so far; a
name taken gets the NPI after it), a service code (kind from its shape, its fee the line's
charge per unit), a patient, a coverage. The claims are matched in file order and each sees
what the claims before it made, so a patient met twice is made once; what a refused claim
would have made is dropped with it.

:class:`Book` holds what is known: the records on file the file's claims may name (read
set-based, a chunk of keys per query) and those the claims before made.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Iterable

from claimdesk.core import db
from claimdesk.core.claim_rules import (
    check_state,
    check_tax_id,
    check_taxonomy,
    check_zip,
    payer_kind_for,
    plan_type_for,
)
from claimdesk.core.letters import without_accents
from claimdesk.core.models import Payer, Provider, ServiceCode
from claimdesk.core.models.imports import ImportedFile
from claimdesk.core.services.claim_import_rules import (
    BilledPayer,
    CheckedClaim,
    CheckedLine,
    refuse,
)
from claimdesk.core.x12.claims837 import Provider as X12Provider
from claimdesk.core.x12.common import Address

#: Keys per lookup query.
CHUNK = 500


@dataclasses.dataclass(eq=False)
class Rec:
    """A record a claim names: one on file (``id`` set) or one the import makes (``new``, with the
    ``values`` to insert; its ``id`` is set once written). ``label`` names it in a refusal,
    ``name`` in a report; ``made_in`` is the file (by its index in the run) that made it; a
    patient has its ``who`` (LAST, FIRST, date of birth), a coverage its (patient, payer,
    member id)."""

    kind: str
    label: str
    id: int | None = None
    new: bool = False
    values: dict = dataclasses.field(default_factory=dict)
    who: tuple | None = None
    made_in: int = -1
    name: str = ""


@dataclasses.dataclass
class PlannedClaim:
    """A claim matched: its checked values, the patient, the payers in rank order with their
    coverages, the rendering and referring providers, each line with its code and own provider
    (None: the claim's), the claim type, and what it warns about."""

    checked: CheckedClaim
    patient: Rec
    payers: list[tuple[str, Rec, Rec]]
    provider: Rec
    referring: Rec | None
    lines: list[tuple[CheckedLine, Rec, Rec | None]]
    claim_type: str
    warnings: list[str]

    def records(self) -> Iterable[Rec]:
        """Every record the claim names (for the new vs matched counts)."""
        yield self.patient
        for _rank, payer, _coverage in self.payers:
            yield payer
        yield self.provider
        if self.referring is not None:
            yield self.referring
        for _line, code, provider in self.lines:
            yield code
            if provider is not None:
                yield provider


def _who(last: str, first: str, dob) -> tuple:
    """A person as an imported claim and the patients on file are compared: the names in capitals
    without their accents (an EHR's 837P writes NUNEZ, JOSE for the Núñez, José registered by hand;
    :func:`~claimdesk.core.letters.without_accents`), and the birth date."""
    return without_accents(last).strip().upper(), without_accents(first).strip().upper(), dob


def _address(address: Address | None) -> dict:
    """N3/N4 as claimdesk's address fields; a state or ZIP not in shape is left empty."""
    if address is None:
        return {}
    street = " ".join(part for part in (address.line1, address.line2) if part)
    return {"address": street[:55], "city": address.city, "state": _clean(check_state, address.state),
            "zip": _clean(check_zip, address.zip)}


#: What :meth:`Book.load` reads, each with ``{where}`` the key's match; SQLite is told the index
#: (its statistics may judge a member id or a birth date common, as the demo's copies make them).
_COVERAGES = ("SELECT c.id, UPPER(c.member_id), c.payer_id, c.active, p.id, p.last_name, p.first_name, p.dob, "
              "p.account_no FROM coverage c {indexed} JOIN patient p ON p.id = c.patient_id "
              "WHERE UPPER(c.member_id) {where} ORDER BY c.id", "INDEXED BY coverage_member_id_upper")
_PATIENTS = ("SELECT id, last_name, first_name, dob, account_no FROM patient {indexed} WHERE dob {where} "
             "AND (UPPER(last_name) {last} OR {beyond_ascii}) ORDER BY id", "INDEXED BY patient_dob")
#: A last name with a letter beyond ASCII (Núñez): compared by :func:`_who` in Python, without accents.
_BEYOND_ASCII = {"postgresql": "last_name ~ '[^ -~]'", "sqlite": "last_name GLOB '*[^ -~]*'"}
_IMPORTED = ("SELECT ic.claim_no, ic.encounter_id, f.name, f.imported_at FROM imported_claim ic "
             "JOIN imported_file f ON f.id = ic.file_id WHERE ic.claim_no {where}", "")
_HELD = ("SELECT claim_no, id FROM encounter WHERE claim_no {where}", "")


def _rows_in(query: tuple[str, str], keys: list, cast: str):
    """The rows of ``query`` for ``keys``: on SQLite a chunk of keys per statement (dates as their
    ISO text), on PostgreSQL one statement with the keys as an array of ``cast``."""
    template, indexed = query
    if not keys:
        return
    if db.is_postgres():
        yield from db.sql(template.format(indexed="", where=f"= ANY(CAST({{p}} AS {cast}[]))"), [keys])
        return
    keys = [k.isoformat() for k in keys] if cast == "DATE" else keys
    for start in range(0, len(keys), CHUNK):
        part = keys[start:start + CHUNK]
        yield from db.sql(template.format(indexed=indexed, where="IN (" + ", ".join(["{p}"] * len(part)) + ")"),
                          part)


def _patients_named(whos: set[tuple]):
    """The patients born on the days of ``whos`` (LAST, FIRST, date of birth) with one of their
    last names, or with a last name beyond ASCII (the caller keeps the matches, names compared
    without accents): the birth date is indexed, the name is checked by the database on those
    rows only."""
    if not whos:
        return
    template, indexed = _PATIENTS
    if db.is_postgres():
        yield from db.sql(template.format(indexed="", where="= ANY(CAST({p} AS DATE[]))",
                                          last="= ANY(CAST({p} AS TEXT[]))", beyond_ascii=_BEYOND_ASCII["postgresql"]),
                          [db.pg_array(sorted({w[2] for w in whos}), "DATE"),
                           db.pg_array(sorted({w[0] for w in whos}), "TEXT")])
        return
    lasts: dict = defaultdict(set)
    for last, _first, dob in whos:
        lasts[dob.isoformat()].add(last)
    days = sorted(lasts)
    for start in range(0, len(days), CHUNK):
        part = days[start:start + CHUNK]
        names = sorted(set().union(*(lasts[d] for d in part)))
        marks = ", ".join(["{p}"] * len(part)), ", ".join(["{p}"] * len(names))
        yield from db.sql(template.format(indexed=indexed, where=f"IN ({marks[0]})", last=f"IN ({marks[1]})",
                                          beyond_ascii=_BEYOND_ASCII["sqlite"]), part + names)



class Book:
    """What the import knows (see the module). One per imported file; a preview of several files
    shares one, so each file sees what the files before it would have made."""

    def __init__(self):
        self.payers_by_code: dict[str, list[Rec]] = defaultdict(list)
        self.payers_by_id: dict[int, Rec] = {}
        self.payer_names: set[str] = set()
        self.providers_by_npi: dict[str, list[Rec]] = defaultdict(list)
        self.provider_names: set[str] = set()
        self.codes: dict[str, Rec] = {}
        self.patients: dict[int, Rec] = {}
        self.by_member: dict[str, list[Rec]] = defaultdict(list)
        self.by_who: dict[tuple, list[Rec]] = defaultdict(list)
        self.coverages: dict[tuple, Rec] = {}
        self.imported: dict[str, tuple[str, int | None]] = {}  # claim number -> (why skipped, encounter)
        self.held: dict[str, int] = {}  # claim number -> encounter that holds it, not imported
        self.files: dict[str, dict] = {}  # digest -> {"on", "by", "id"} of files imported (or previewed)
        self.made: dict[str, list[Rec]] = defaultdict(list)
        self._members: set[str] = set()
        self._whos: set[tuple] = set()
        self._claim_nos: set[str] = set()
        self._reference = False

    # --- reading what is on file ---------------------------------------------------------------
    def file(self, digest: str) -> dict | None:
        """The first import of the file with this digest: ``{"on", "by", "id"}``, or None."""
        if digest not in self.files:
            row = ImportedFile.get_or_none(ImportedFile.digest == digest)
            if row is None:
                return None
            self.files[digest] = {"on": row.imported_at, "by": row.imported_by, "id": row.id}
        return self.files[digest]

    def load(self, claims: list[CheckedClaim]) -> None:
        """Read (once per key) the records on file ``claims`` may name: every payer, provider and
        code; the coverages holding their member ids with their patients; the patients with their
        names and birth dates; the encounters and imported claims holding their claim numbers."""
        if not self._reference:
            self._load_reference()
        members = {p.subscriber.member_id.strip().upper() for c in claims for p in c.payers} - self._members
        self._members |= members
        for row in _rows_in(_COVERAGES, sorted(members), "TEXT"):
            self._coverage(*row)
        whos = {_who(c.claim.patient.name.last, c.claim.patient.name.first, c.claim.patient.birth)
                for c in claims} - self._whos
        self._whos |= whos
        for pid, last, first, dob, account in _patients_named(whos):
            dob = db.date_of(dob)
            if _who(last, first, dob) in whos:  # (only those a claim names: a day may have hundreds born)
                rec = self._patient(pid, last, first, dob, account)
                if rec not in self.by_who[rec.who]:
                    self.by_who[rec.who].append(rec)
        numbers = sorted({c.claim_no for c in claims} - self._claim_nos)
        self._claim_nos.update(numbers)
        for number, encounter_id, name, at in _rows_in(_IMPORTED, numbers, "TEXT"):
            self.imported[number] = (f"claim {number} was imported on {str(at)[:10]} from {name or 'a file'} "
                                     f"(encounter {encounter_id})", encounter_id)
        for number, encounter_id in _rows_in(_HELD, numbers, "TEXT"):
            if number not in self.imported:
                self.held[number] = encounter_id

    def _load_reference(self) -> None:
        """Every payer and service code, and the providers (with their NPIs): a clinic has few."""
        self._reference = True
        for pid, name, code, kind in Payer.select(Payer.id, Payer.name, Payer.payer_code, Payer.kind).tuples():
            rec = Rec("payer", f"{name} (payer {pid})", pid, values={"kind": kind}, name=name)
            self.payers_by_id[pid] = rec
            self.payer_names.add(name)
            if code and Payer.insurance_kind(kind):
                self.payers_by_code[code.upper()].append(rec)
        for pid, name, npi in Provider.select(Provider.id, Provider.name, Provider.npi).order_by(Provider.id).tuples():
            self.provider_names.add(name)
            if npi:
                self.providers_by_npi[npi].append(Rec("provider", f"{name} (provider {pid})", pid))
        for cid, code in ServiceCode.select(ServiceCode.id, ServiceCode.code).tuples():
            self.codes[code.upper()] = Rec("code", code, cid)

    def _coverage(self, cid, member, payer_id, active, pid, last, first, dob, account) -> None:
        """A coverage holding one of the claims' member ids, and its patient."""
        rec = self._patient(pid, last, first, db.date_of(dob), account)
        if rec not in self.by_member[member]:
            self.by_member[member].append(rec)
        key = (rec, self.payers_by_id[payer_id], member)
        if active and key not in self.coverages:
            self.coverages[key] = Rec("coverage", f"coverage {cid}", cid)

    def _patient(self, pid, last, first, dob, account) -> Rec:
        rec = self.patients.get(pid)
        if rec is None:
            rec = self.patients[pid] = Rec("patient", f"{last}, {first} (patient {pid}, account {account})", pid,
                                           who=_who(last, first, dob), name=f"{last}, {first}")
        return rec

    # --- matching one claim ----------------------------------------------------------------------
    def match(self, checked: CheckedClaim, file_index: int) -> PlannedClaim:
        """The records ``checked`` names, found or made (see the module); raises
        :class:`~claimdesk.core.services.claim_import_rules.ClaimRefused` for an ambiguous match.
        What the claim makes joins the book only when it passes."""
        scope = _Scope(self, checked, file_index)
        planned = scope.plan()
        for kind, rec in scope.made:
            self._absorb(kind, rec)
        return planned

    def _absorb(self, kind: str, rec: Rec) -> None:
        self.made[kind].append(rec)
        values = rec.values
        if kind == "payer":
            self.payers_by_code[values["payer_code"]].append(rec)
            self.payer_names.add(values["name"])
        elif kind == "provider":
            self.providers_by_npi[values["npi"]].append(rec)
            self.provider_names.add(values["name"])
        elif kind == "code":
            self.codes[values["code"]] = rec
        elif kind == "patient":
            self.by_who[rec.who].append(rec)
        elif kind == "coverage":
            patient, _payer, member = rec.who
            self.coverages[rec.who] = rec
            if patient not in self.by_member[member]:
                self.by_member[member].append(patient)


class _Scope:
    """One claim's matching: lookups go to what this claim made first, then to the book; what it
    makes is kept in ``made`` until the claim passes."""

    def __init__(self, book: Book, checked: CheckedClaim, file_index: int):
        self.book, self.checked, self.claim, self.file_index = book, checked, checked.claim, file_index
        self.made: list[tuple[str, Rec]] = []
        self.warnings: list[str] = []

    def new(self, kind: str, label: str, values: dict, who: tuple | None = None, name: str = "") -> Rec:
        rec = Rec(kind, label, new=True, values=values, who=who, made_in=self.file_index, name=name)
        self.made.append((kind, rec))
        return rec

    def _mine(self, kind: str, test) -> Rec | None:
        return next((rec for k, rec in self.made if k == kind and test(rec)), None)

    def plan(self) -> PlannedClaim:
        checked, claim = self.checked, self.claim
        payers = [(p.rank, self.payer(p)) for p in checked.payers]
        at = "NM1*82" if claim.rendering is not None else "NM1*85"
        provider = self.provider(claim.rendering or claim.billing, at, claim, renders=True)
        referring = None
        if claim.referring is not None:
            if claim.referring.npi:
                referring = self.provider(claim.referring, "NM1*DN", claim, renders=False)
            else:
                self.warnings.append(f"claim {checked.claim_no}: the referring provider has no NPI (NM109) and is "
                                     f"left off: {claim.places.get('NM1*DN', '')}".rstrip(": "))
        lines = []
        for line in checked.lines:
            own = None
            if line.rendering is not None and line.rendering.npi != (claim.rendering or claim.billing).npi:
                own = self.provider(line.rendering, "NM1*82", line.source, renders=True)
            lines.append((line, self.code(line), own))
        patient = self.patient()
        billed = [(rank, payer, self.coverage(patient, payer, p)) for (rank, payer), p in zip(payers, checked.payers)]
        primary_kind = billed[0][1].values.get("kind")
        return PlannedClaim(checked, patient, billed, provider, referring, lines,
                            "workers_comp" if primary_kind == "workers_comp" else "medical", self.warnings)

    def payer(self, billed: BilledPayer) -> Rec:
        code = billed.payer.payer_id.strip().upper()
        found = self._mine("payer", lambda r: r.values["payer_code"] == code) or self.book.payers_by_code.get(code)
        if isinstance(found, Rec):
            return found
        if found and len(found) > 1:
            listed = "; ".join(r.label for r in found)
            raise refuse(self.claim, "NM1*PR", "NM109", f"payer id {code} is held by {len(found)} payers ({listed}); "
                                                        "give it to one only", billed.source)
        if found:
            return found[0]
        kind = payer_kind_for(billed.plan_type)
        name = (billed.payer.name.strip() or code)[:60]
        if name in self.book.payer_names or self._mine("payer", lambda r: r.values["name"] == name):
            name = f"{name[:60 - len(code) - 3]} ({code})"
            if name in self.book.payer_names:
                raise refuse(self.claim, "NM1*PR", "NM103", f"a new payer for payer id {code} cannot be named "
                                                            f"{name!r}: a payer of that name exists", billed.source)
        return self.new("payer", f"{name} (new, payer id {code})",
                        {"name": name, "kind": kind, "payer_code": code, **_address(billed.payer.address)}, name=name)

    def provider(self, who: X12Provider, at: str, where, *, renders: bool) -> Rec:
        """The provider ``who`` by NPI (its NM1 is ``at`` in ``where``'s places), found or made."""
        npi = who.npi
        if not npi:
            raise refuse(self.claim, at, "NM109", "the rendering provider has no NPI; claimdesk finds providers by "
                                                  "NPI", where)
        mine = self._mine("provider", lambda r: r.values["npi"] == npi)
        found = [mine] if mine else self.book.providers_by_npi.get(npi, [])
        if len(found) > 1:
            listed = "; ".join(r.label for r in found)
            raise refuse(self.claim, at, "NM109", f"NPI {npi} is held by {len(found)} providers ({listed})", where)
        if found:
            rec = found[0]
            if rec.new and renders:
                rec.values["kind"] = "clinical"  # (first met as a referring one: it renders too)
            return rec
        name = who.name
        person = not name.organisation
        shown = (f"{name.first} {name.last}" if person and name.first else name.last).strip()[:60] or npi
        if shown in self.book.provider_names or self._mine("provider", lambda r: r.values["name"] == shown):
            shown = f"{shown[:47]} ({npi})"
        values = {"name": shown, "kind": "clinical" if renders else "referring",
                  "entity": "person" if person else "organization", "last_name": name.last or shown,
                  "first_name": name.first if person else "", "npi": npi,
                  "taxonomy": _clean(check_taxonomy, who.taxonomy), "tax_id": _clean(check_tax_id, who.tax_id),
                  **_address(who.address)}
        return self.new("provider", f"{shown} (new, NPI {npi})", values)

    def code(self, line: CheckedLine) -> Rec:
        found = self._mine("code", lambda r: r.values["code"] == line.code) or self.book.codes.get(line.code)
        if found is not None:
            return found
        per_unit = line.fee // line.units if line.fee % line.units == 0 else 0
        return self.new("code", f"{line.code} (new)", {"code": line.code, "kind": line.code_kind,
                                                        "description": "", "default_fee": per_unit})

    def patient(self) -> Rec:
        claim, checked = self.claim, self.checked
        p = claim.patient
        who = _who(p.name.last, p.name.first, p.birth)
        members = list(dict.fromkeys(b.subscriber.member_id.strip().upper() for b in checked.payers))
        at = "NM1*IL" if claim.patient_is_subscriber else "NM1*QC"
        same = []
        for member in members:
            for rec in self.book.by_member.get(member, ()):
                if rec.who == who and rec not in same:
                    same.append(rec)
        if len(same) == 1:
            return same[0]
        shown = f"{p.name.last}, {p.name.first}, born {p.birth}"
        ids = ", ".join(members)
        if same:
            listed = "; ".join(r.label for r in same)
            raise refuse(claim, at, None, f"ambiguous patient: {len(same)} patients match {shown} with member id "
                                          f"{ids}: {listed}; merge or correct them, then import again")
        named = self.book.by_who.get(who, [])
        if named:
            listed = "; ".join(r.label for r in named)
            raise refuse(claim, at, None, f"ambiguous patient: {listed} has the name and date of birth of "
                                          f"{shown} but no coverage with member id {ids}: add that coverage to the "
                                          "patient (or register this other person with it), then import again")
        values = {"last_name": p.name.last, "first_name": p.name.first, "dob": p.birth,
                  "sex": p.sex if p.sex in ("M", "F") else "U", **_address(p.address)}
        return self.new("patient", f"{p.name.last}, {p.name.first} (new)", values, who=who,
                        name=f"{p.name.last}, {p.name.first}")

    def coverage(self, patient: Rec, payer: Rec, billed: BilledPayer) -> Rec:
        member_id = billed.subscriber.member_id.strip()
        key = (patient, payer, member_id.upper())
        found = self._mine("coverage", lambda r: r.who == key) or self.book.coverages.get(key)
        if found is not None:
            return found
        kind = payer.values.get("kind", "commercial")
        sub = billed.subscriber
        values = {"member_id": member_id, "group_no": sub.group, "relationship": billed.relationship,
                  "plan_type": billed.plan_type or plan_type_for(kind)}
        if billed.relationship == "self":
            values["subscriber"] = f"{self.claim.patient.name.last}, {self.claim.patient.name.first}"
        else:
            address = _address(sub.address)
            values.update({"subscriber": f"{sub.name.last}, {sub.name.first}"[:60],
                           "subscriber_last_name": sub.name.last, "subscriber_first_name": sub.name.first,
                           "subscriber_dob": sub.birth, "subscriber_sex": sub.sex if sub.sex in ("M", "F") else "U",
                           **{f"subscriber_{k}": v for k, v in address.items()}})
        return self.new("coverage", f"coverage with {payer.label}, member {member_id} (new)", values, who=key)


def _clean(check, text: str) -> str:
    """``text`` as ``check`` keeps it, or "" when empty or not in shape (an optional field)."""
    try:
        return check(text) if text else ""
    except ValueError:
        return ""
