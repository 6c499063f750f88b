"""What an 837P import (or its preview) reports, per file and in all: plain records a screen
and the CLI both show (:meth:`ImportReport.as_dict` is the ``--json`` form; amounts are
:class:`~claimdesk.core.money.Cents`).

A :class:`FileReport` says which file, whether it could be read at all (``error``, naming the
segment and line), whether it was imported before (``already_imported``), how many claims it
holds, which were imported (or would be, on a preview), skipped as imported before, or refused
(each with its reason, segment and line), how many patients, payers, providers and service
codes are new and how many matched records on file, and the total charged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from claimdesk.core.money import Cents


@dataclasses.dataclass(frozen=True)
class RefusedRow:
    """A claim not imported because something in it is wrong or ambiguous: its claim number
    (CLM01, "" when missing), the reason (ending with the place), and the place itself:
    ``segment`` tag, ``segment_number``, ``line``, the ``element`` at fault (``SV101-2``) when
    one is, and the line of its CLM."""

    claim_no: str
    reason: str
    segment: str | None
    segment_number: int | None
    line: int | None
    element: str | None
    claim_line: int


@dataclasses.dataclass(frozen=True)
class SkippedRow:
    """A claim imported before (from this file or another): its claim number, why it is skipped,
    the encounter it became (None when it was imported earlier in the same preview), and where
    its CLM stands in this file."""

    claim_no: str
    reason: str
    encounter_id: int | None
    claim_line: int


@dataclasses.dataclass(frozen=True)
class ImportedRow:
    """A claim imported (on a preview: that would be): its claim number, the encounter it became
    (None on a preview), the patient (name, and whether new), the payers billed in order, the
    date of service, its total, and where its CLM stands."""

    claim_no: str
    encounter_id: int | None
    patient: str
    patient_new: bool
    payers: tuple[str, ...]
    dos: dt.date
    total: Cents
    claim_line: int


@dataclasses.dataclass
class Tally:
    """How many records of one kind the imported claims name: ``new`` (made by the import) and
    ``matched`` (found on file), each counted once."""

    new: int = 0
    matched: int = 0

    def as_dict(self) -> dict:
        return {"new": self.new, "matched": self.matched}


#: The kinds of records a claim names, as the report counts them.
KINDS = ("patients", "payers", "providers", "codes")


@dataclasses.dataclass
class FileReport:
    """One file's import (or preview). ``error`` set: the file could not be read at all and
    nothing else is filled. ``already_imported``: ``{"on": datetime, "by": user}`` of the first
    import of the same bytes (its imported claims are skipped, and any claim it refused is tried
    again)."""

    file: str
    digest: str = ""
    date: dt.date | None = None
    sender_id: str = ""
    control_number: str = ""
    dry_run: bool = False
    error: str | None = None
    error_segment: str | None = None
    error_line: int | None = None
    already_imported: dict | None = None
    claims_found: int = 0
    imported: list[ImportedRow] = dataclasses.field(default_factory=list)
    skipped: list[SkippedRow] = dataclasses.field(default_factory=list)
    refused: list[RefusedRow] = dataclasses.field(default_factory=list)
    tallies: dict[str, Tally] = dataclasses.field(default_factory=lambda: {k: Tally() for k in KINDS})
    warnings: list[str] = dataclasses.field(default_factory=list)
    audit_id: int | None = None

    @property
    def total_charges(self) -> Cents:
        """What the imported claims charge in all."""
        return Cents(sum(row.total for row in self.imported))

    @property
    def already_text(self) -> str | None:
        """``already imported on 2026-03-02 10:15 by tester`` when the file was imported before."""
        if not self.already_imported:
            return None
        if self.already_imported.get("earlier"):
            return f"the same file as {self.already_imported['earlier']}, earlier in this preview"
        on = self.already_imported["on"]
        when = on.strftime("%Y-%m-%d %H:%M") if isinstance(on, dt.datetime) else str(on)
        return f"already imported on {when} by {self.already_imported['by']}"

    def as_dict(self) -> dict:
        """The report as plain data (amounts as :class:`Cents`)."""
        if self.error is not None:
            return {"file": self.file, "read": False, "error": self.error, "segment": self.error_segment,
                    "line": self.error_line}
        return {
            "file": self.file, "read": True, "digest": self.digest, "date": self.date,
            "sender_id": self.sender_id, "control_number": self.control_number, "dry_run": self.dry_run,
            "already_imported": self.already_text, "claims_found": self.claims_found,
            "imported": len(self.imported), "skipped": len(self.skipped), "refused": len(self.refused),
            **{kind: self.tallies[kind].as_dict() for kind in KINDS},
            "total_charges": self.total_charges, "audit_id": self.audit_id,
            "imported_claims": [dataclasses.asdict(r) for r in self.imported],
            "skipped_claims": [dataclasses.asdict(r) for r in self.skipped],
            "refused_claims": [dataclasses.asdict(r) for r in self.refused],
            "warnings": list(self.warnings),
        }


@dataclasses.dataclass
class ImportReport:
    """Every file of one import (or preview), in the order given."""

    files: list[FileReport]
    dry_run: bool = False

    @property
    def unreadable(self) -> list[FileReport]:
        """The files that could not be read at all."""
        return [f for f in self.files if f.error is not None]

    def count(self, what: str) -> int:
        """Claims ``imported``, ``skipped`` or ``refused`` over every file."""
        return sum(len(getattr(f, what)) for f in self.files)

    @property
    def total_charges(self) -> Cents:
        return Cents(sum(f.total_charges for f in self.files))

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "files": [f.as_dict() for f in self.files],
                "claims_found": sum(f.claims_found for f in self.files), "imported": self.count("imported"),
                "skipped": self.count("skipped"), "refused": self.count("refused"),
                "unreadable_files": len(self.unreadable), "total_charges": self.total_charges}
