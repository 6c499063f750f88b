"""Render a patient statement as plain text (screen, e-mail, print) or as a PDF (fpdf2).

Both read one :class:`StatementView` built from the stored statement and its lines,
so the text and the PDF always say the same thing. Rendering writes nothing to the
database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from claimdesk.core import config
from claimdesk.core.models import Patient, Statement
from claimdesk.core.money import fmt
from claimdesk.core.services import statements
from claimdesk.core.services.common import get

WIDTH = 72


@dataclasses.dataclass
class StatementView:
    """Everything printed on a statement, amounts in cents."""

    statement_id: int
    status: str
    generated_on: dt.date
    clinic: tuple[str, ...]
    patient_name: str
    account_no: str
    address: tuple[str, ...]
    charges: list[tuple[dt.date, str, int]]
    payments: list[tuple[dt.date, str, int]]
    aging: list[tuple[str, int]]
    amount_due: int
    message: str
    final_notice: bool

    @property
    def balance_total(self) -> int:
        """Sum of the patient-responsibility lines."""
        return sum(c[2] for c in self.charges)


def view(statement_id: int) -> StatementView:
    """Collect what a statement prints (a void statement prints marked VOID)."""
    stmt = get(Statement, statement_id, "statement", field="statement_id")
    pat = Patient.get_by_id(stmt.patient_id)
    settings = config.load()
    c = settings.clinic
    clinic = tuple(x for x in (c.name, c.address, _city_line(c.city, c.state, c.zip), c.phone) if x)
    city = _city_line(pat.city, pat.state, pat.zip)
    charges, payments, buckets = [], [], []
    for ln in statements.lines_of(stmt.id):
        if ln.kind == "charge":
            charges.append((ln.line_date, ln.description, ln.amount))
        elif ln.kind == "payment":
            payments.append((ln.line_date, ln.description, ln.amount))
        elif ln.kind == "aging":
            buckets.append((ln.description.removeprefix("Aging ").strip(), ln.amount))
    return StatementView(
        statement_id=stmt.id, status=stmt.status, generated_on=stmt.generated_on, clinic=clinic,
        patient_name=f"{pat.first_name} {pat.last_name}", account_no=pat.account_no,
        address=tuple(x for x in (pat.address, city) if x), charges=charges, payments=payments,
        aging=buckets, amount_due=stmt.amount_due, message=stmt.message, final_notice=stmt.final_notice)


def _city_line(city: str, state: str, zip_code: str) -> str:
    """``Riverbend, OR 97402`` (what of it is known)."""
    return " ".join(x for x in (f"{city}," if city else "", state, zip_code) if x)


def _row(left: str, amount: str, width: int = WIDTH) -> str:
    room = width - len(amount) - 2
    return f"{left[:room].ljust(room)}  {amount}"


def render_text(statement_id: int) -> str:
    """The statement as plain text, 72 columns wide."""
    v = view(statement_id)
    out = [*v.clinic, "=" * WIDTH, "PATIENT STATEMENT".center(WIDTH)]
    if v.status == "void":
        out.append("*** VOID - replaced by a newer statement ***".center(WIDTH))
    if v.final_notice:
        out.append("*** FINAL NOTICE ***".center(WIDTH))
    out += ["=" * WIDTH,
            _row(v.patient_name, f"Statement #{v.statement_id}"),
            _row(v.address[0] if v.address else "", f"Date {v.generated_on.isoformat()}"),
            _row(v.address[1] if len(v.address) > 1 else "", f"Account {v.account_no}"),
            "", "Charges you owe (after insurance)", "-" * WIDTH]
    for day, desc, cents in v.charges:
        out.append(_row(f"{day.isoformat()}  {desc}", fmt(cents)))
    if not v.charges:
        out.append("(none)")
    out.append(_row("Total of charges", fmt(v.balance_total)))
    if v.payments:
        out += ["", "Payments received", "-" * WIDTH]
        for day, desc, cents in v.payments:
            out.append(_row(f"{day.isoformat()}  {desc}", fmt(cents)))
    out += ["", "Account aging", "-" * WIDTH,
            "  ".join(f"{label}: {fmt(cents)}" for label, cents in v.aging), "",
            "=" * WIDTH, _row("AMOUNT DUE", fmt(v.amount_due)), "=" * WIDTH]
    if v.message:
        out += ["", v.message]
    out += ["", "Balances still pending with your insurance are not billed to you."]
    return "\n".join(out) + "\n"


def _latin1(text: str) -> str:
    """fpdf2's core fonts speak Latin-1: replace anything else."""
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(statement_id: int, path: str | Path) -> Path:
    """Write the statement as a one-page (or longer) PDF at ``path``; return the path."""
    from fpdf import FPDF

    v = view(statement_id)
    pdf = FPDF(format="Letter", unit="mm")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title(_latin1(f"Statement {v.statement_id} - {v.patient_name}"))
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text: str, amount: str = "", *, bold: bool = False, size: int = 10, align: str = "L") -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        if amount:
            pdf.cell(width - 35, 6, _latin1(text), new_x="RIGHT", new_y="TOP")
            pdf.cell(35, 6, _latin1(amount), align="R", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.cell(width, 6, _latin1(text), align=align, new_x="LMARGIN", new_y="NEXT")

    for i, text in enumerate(v.clinic):
        line(text, bold=i == 0, size=12 if i == 0 else 10)
    line("PATIENT STATEMENT", bold=True, size=14, align="C")
    if v.status == "void":
        line("VOID - replaced by a newer statement", bold=True, align="C")
    if v.final_notice:
        line("FINAL NOTICE", bold=True, size=12, align="C")
    pdf.ln(2)
    line(v.patient_name, f"Statement #{v.statement_id}", bold=True)
    line(v.address[0] if v.address else "", f"Date {v.generated_on.isoformat()}")
    line(v.address[1] if len(v.address) > 1 else "", f"Account {v.account_no}")
    pdf.ln(3)
    line("Charges you owe (after insurance)", bold=True)
    for day, desc, cents in v.charges:
        line(f"{day.isoformat()}   {desc}", fmt(cents))
    line("Total of charges", fmt(v.balance_total), bold=True)
    if v.payments:
        pdf.ln(2)
        line("Payments received", bold=True)
        for day, desc, cents in v.payments:
            line(f"{day.isoformat()}   {desc}", fmt(cents))
    pdf.ln(2)
    line("Account aging", bold=True)
    line("   ".join(f"{label}: {fmt(cents)}" for label, cents in v.aging))
    pdf.ln(3)
    line("AMOUNT DUE", fmt(v.amount_due), bold=True, size=12)
    if v.message:
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(width, 5, _latin1(v.message))
    pdf.ln(2)
    line("Balances still pending with your insurance are not billed to you.", size=8)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(target))
    return target
