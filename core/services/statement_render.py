"""Render a patient statement as plain text (screen, e-mail, print) or as a PDF (fpdf2).

Both read one :class:`StatementView` built from the stored statement and its lines
(:func:`claimdesk.core.services.statements.face_lines` wrote them), so the text and the
PDF always say the same thing, and a statement reprints as it was sent. What a patient
reads adds up: balance forward + payments since + changes since = amount due, and per
visit billed - insurance - adjusted = your portion; your portions - your payments - the
credit on account used = amount due. Both end with the payment coupon (account, amount
due, due date, amount enclosed, remit-to address = the clinic's). Rendering writes nothing
to the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import textwrap
from pathlib import Path

from claimdesk.core import config, files
from claimdesk.core.letters import without_accents
from claimdesk.core.models import Patient, Statement
from claimdesk.core.money import fmt
from claimdesk.core.services import statements
from claimdesk.core.services.common import get

WIDTH = 72
#: Column widths of the visits table in the text: service, billed, insurance, adjusted, your portion.
COLS = (28, 10, 11, 10, 13)
COUPON_NOTE = "Please detach and return this part with your payment"


@dataclasses.dataclass
class ServiceRow:
    """One service of a visit: amounts signed as they add up (insurance and adjusted negative)."""

    service: str
    billed: int
    insurance: int
    adjusted: int
    pending: int  # still with an insurer (negative): not the patient's to pay
    owed: int  # of the portion, still open

    @property
    def portion(self) -> int:
        return self.billed + self.insurance + self.adjusted + self.pending


@dataclasses.dataclass
class Visit:
    """A visit: its date, provider(s) and services."""

    dos: dt.date
    provider: str
    services: list[ServiceRow]


@dataclasses.dataclass
class StatementView:
    """Everything printed on a statement, amounts in cents (signed as they add up)."""

    statement_id: int
    status: str
    generated_on: dt.date
    due_on: dt.date
    clinic: tuple[str, ...]  # name, address, city line, phone (what of it is known)
    remit_to: tuple[str, ...]  # name, address, city line
    clinic_phone: str
    patient_name: str
    account_no: str
    address: tuple[str, ...]
    summary: list[tuple[str, int]]  # balance forward, payments since, changes since (none: first statement)
    visits: list[Visit]
    payments: list[tuple[dt.date, str, int]]  # the patient's payments on these visits (negative)
    credit: tuple[str, int] | None  # credit on account used (negative), with what stays on account
    aging: list[tuple[str, int]]
    amount_due: int
    message: str
    final_notice: bool
    itemized: bool = True  # False: a statement made before the figures were kept per visit
    plan: tuple[str, int] | None = None  # a payment plan's part not yet due (negative)

    @property
    def portion_total(self) -> int:
        """The patient's portion of the visits listed."""
        return sum(s.portion for v in self.visits for s in v.services)

    @property
    def balance_total(self) -> int:
        """What is still open on the visits listed (before the credit on account)."""
        return sum(s.owed for v in self.visits for s in v.services)

    def figures(self) -> list[tuple[str, int]]:
        """The lines that add up to the amount due, top to bottom: portions, payments, credit."""
        out = [("Your portion of these visits", self.portion_total)]
        out += [(f"{day.isoformat()}  {label}", cents) for day, label, cents in self.payments]
        if self.credit is not None:
            out.append(self.credit)
        if self.plan is not None:
            out.append(self.plan)
        return out


def view(statement_id: int) -> StatementView:
    """Collect what a statement prints (a void statement prints marked VOID)."""
    stmt = get(Statement, statement_id, "statement", field="statement_id")
    pat = Patient.get_by_id(stmt.patient_id)
    c = config.load().clinic
    city = _city_line(c.city, c.state, c.zip)
    clinic = tuple(x for x in (c.name, c.address, city, c.phone) if x)
    remit = tuple(x for x in (c.name, c.address, city) if x)
    summary, payments, buckets, due_on, credit, plan = [], [], [], None, None, None
    visits: dict[int, Visit] = {}
    rows: dict[int, ServiceRow] = {}
    providers: dict[int, list[str]] = {}
    of_charge: dict[int, int] = {}  # charge -> encounter
    lines = statements.lines_of(stmt.id)
    for ln in lines:
        if ln.kind == "charge":
            key = ln.encounter_id or -ln.id
            visits.setdefault(key, Visit(ln.line_date, "", []))
            row = ServiceRow(ln.description, ln.amount, 0, 0, 0, ln.amount)
            visits[key].services.append(row)
            if ln.charge_id is not None:
                rows[ln.charge_id] = row
                of_charge[ln.charge_id] = key
    itemized = any(ln.kind == "due" for ln in lines)
    for ln in lines:
        row = rows.get(ln.charge_id) if ln.charge_id is not None else None
        if ln.kind in ("forward", "received", "changes"):
            summary.append((ln.description, ln.amount))
        elif ln.kind == "billed" and row is not None:
            row.billed = ln.amount
            names = providers.setdefault(of_charge[ln.charge_id], [])
            if ln.description not in names:
                names.append(ln.description)
        elif ln.kind in ("insurance", "adjustment", "pending") and row is not None:
            setattr(row, {"adjustment": "adjusted"}.get(ln.kind, ln.kind), ln.amount)
        elif ln.kind == "payment":
            payments.append((ln.line_date, ln.description, ln.amount))
        elif ln.kind == "credit":
            credit = (ln.description, ln.amount)
        elif ln.kind == "plan":
            plan = (ln.description, ln.amount)
        elif ln.kind == "aging":
            buckets.append((ln.description.removeprefix("Aging ").strip(), ln.amount))
        elif ln.kind == "due":
            due_on = ln.line_date
    for key, names in providers.items():
        visits[key].provider = ", ".join(names)
    if due_on is None:  # made before the due date was kept: the rule of today
        due_on = stmt.generated_on + dt.timedelta(days=config.load().statements.payment_due_days)
    return StatementView(
        statement_id=stmt.id, status=stmt.status, generated_on=stmt.generated_on, due_on=due_on, clinic=clinic,
        remit_to=remit, clinic_phone=c.phone, patient_name=f"{pat.first_name} {pat.last_name}",
        account_no=pat.account_no, address=tuple(x for x in (pat.address, _city_line(pat.city, pat.state, pat.zip))
                                                 if x),
        summary=summary, visits=sorted(visits.values(), key=lambda v: v.dos), payments=payments, credit=credit,
        aging=buckets, amount_due=stmt.amount_due, message=stmt.message, final_notice=stmt.final_notice,
        itemized=itemized, plan=plan)


def _city_line(city: str, state: str, zip_code: str) -> str:
    """``Riverbend, OR 97402-1234`` (what of it is known; a ZIP+4 kept as 9 digits gets its hyphen)."""
    if len(zip_code) == 9 and zip_code.isdigit():
        zip_code = f"{zip_code[:5]}-{zip_code[5:]}"
    return " ".join(x for x in (f"{city}," if city else "", state, zip_code) if x)


def _row(left: str, amount: str, width: int = WIDTH) -> str:
    room = width - len(amount) - 2
    return f"{left[:room].ljust(room)}  {amount}"


def _columns(left: str, amounts: list[str]) -> str:
    out = left[:COLS[0] - 1].ljust(COLS[0])
    for width, text in zip(COLS[1:], amounts):
        out += text.rjust(width)
    return out


def _signed(cents: int) -> str:
    return fmt(cents) if cents else "0.00"


def render_text(statement_id: int) -> str:
    """The statement as plain text, 72 columns wide, ending with the payment coupon."""
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
            _row("", f"Please pay by {v.due_on.isoformat()}")]
    if v.summary:
        out += ["", "ACCOUNT SUMMARY", "-" * WIDTH]
        out += [_row(label, _signed(cents)) for label, cents in v.summary]
        out.append(_row("Amount due", fmt(v.amount_due)))
    out += ["", _columns("YOUR VISITS", ["Billed", "Insurance", "Adjusted", "Your portion"]), "-" * WIDTH]
    for visit in v.visits:
        out.append(f"{visit.dos.isoformat()}  {visit.provider}".rstrip())
        for s in visit.services:
            if v.itemized:
                out.append(_columns(f"  {s.service}", [fmt(s.billed), _signed(s.insurance), _signed(s.adjusted),
                                                       fmt(s.portion)]))
                if s.pending:
                    out.append(_columns("    not yet paid by insurance", ["", _signed(s.pending)]))
            else:
                out.append(_columns(f"  {s.service}", ["", "", "", fmt(s.owed)]))
    if not v.visits:
        out.append("(none)")
    out.append("-" * WIDTH)
    if v.itemized:
        out.append(_row("Your portion of these visits", fmt(v.portion_total)))
        if v.payments:
            out.append("Your payments on these visits")
            out += [_row(f"  {day.isoformat()}  {label}", fmt(cents)) for day, label, cents in v.payments]
        if v.credit is not None:
            out.append(_row(v.credit[0], fmt(v.credit[1])))
        if v.plan is not None:
            out.append(_row(v.plan[0], fmt(v.plan[1])))
    else:
        out.append(_row("Total of charges", fmt(v.balance_total)))
        if v.payments:
            out += ["", "Payments received", "-" * WIDTH]
            out += [_row(f"{day.isoformat()}  {desc}", fmt(cents)) for day, desc, cents in v.payments]
    out += ["=" * WIDTH, _row(f"AMOUNT DUE by {v.due_on.isoformat()}", fmt(v.amount_due)), "=" * WIDTH]
    label = "Account aging" + (" (after your credit on account)" if v.credit is not None else "")
    out += ["", label, "  ".join(f"{name}: {fmt(cents)}" for name, cents in v.aging)]
    if v.message:
        out += ["", *textwrap.wrap(v.message, WIDTH)]
    out += ["", "Balances still pending with your insurance are not billed to you."]
    if v.clinic_phone:
        out.append(f"Questions about your bill? Call {v.clinic_phone}.")
    out += coupon_text(v)
    return "\n".join(out) + "\n"


def coupon_text(v: StatementView) -> list[str]:
    """The tear-off payment coupon, as text."""
    remit = v.remit_to or ("(the clinic)",)
    rows = [("Account", v.account_no), ("Patient", v.patient_name), ("Statement", (f"#{v.statement_id} of "
                                                                                  f"{v.generated_on.isoformat()}")),
            ("Please pay by", v.due_on.isoformat()), ("Amount due", fmt(v.amount_due)),
            ("Amount enclosed", "[______________]")]
    left = ["Remit to:", *remit]
    out = ["", f" {COUPON_NOTE} ".center(WIDTH, "-")]
    for i in range(max(len(left), len(rows))):
        a = left[i] if i < len(left) else ""
        b = f"{rows[i][0]:<16}{rows[i][1]}" if i < len(rows) else ""
        out.append(f"{a[:38]:<38}{b}".rstrip())
    return out


def _latin1(text: str) -> str:
    """fpdf2's core fonts speak Latin-1: a letter beyond it is printed without its accent ("Nguyễn"
    as "Nguyen", :func:`~claimdesk.core.letters.without_accents`), anything still beyond as "?"."""
    if all(ord(c) < 256 for c in text):
        return text
    spelled = "".join([c if ord(c) < 256 else without_accents(c) for c in text])
    return spelled.encode("latin-1", "replace").decode("latin-1")


#: Height of the payment coupon at the foot of the last page (mm).
COUPON_MM = 62


def render_pdf(statement_id: int, path: str | Path) -> Path:
    """Write the statement as a PDF at ``path`` (Letter; longer statements take more pages, the
    payment coupon is at the foot of the last one); return the path."""
    from fpdf import FPDF

    v = view(statement_id)

    class Paper(FPDF):
        def footer(self) -> None:
            self.set_y(-11)
            self.set_font("Helvetica", "", 7.5)
            self.cell(0, 4, _latin1(f"{v.patient_name}, account {v.account_no}, statement #{v.statement_id}: "
                                    f"page {self.page_no()} of {{nb}}"), align="R")

    pdf = Paper(format="Letter", unit="mm")
    pdf.set_compression(False)  # a few kilobytes; its text stays searchable as written
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15 + COUPON_MM)  # nothing runs into the coupon
    pdf.add_page()
    pdf.set_title(_latin1(f"Statement {v.statement_id} - {v.patient_name}"))
    width = pdf.w - pdf.l_margin - pdf.r_margin
    amount_w = 26

    def font(size: float = 9.5, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)

    def line(text: str, amount: str = "", *, bold: bool = False, size: float = 9.5, h: float = 5) -> None:
        font(size, bold)
        if amount:
            pdf.cell(width - 35, h, _latin1(text), new_x="RIGHT", new_y="TOP")
            pdf.cell(35, h, _latin1(amount), align="R", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.cell(width, h, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def heading(text: str) -> None:
        pdf.ln(2)
        font(10, True)
        pdf.cell(width, 6, _latin1(text), border="B", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    # the clinic (left) and the statement's facts (right)
    top = pdf.get_y()
    for i, text in enumerate(v.clinic):
        font(13 if i == 0 else 9.5, i == 0)
        pdf.cell(width / 2, 6 if i == 0 else 4.6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width / 2, top)
    font(15, True)
    pdf.cell(width / 2, 7, "PATIENT STATEMENT", align="R", new_x="LEFT", new_y="NEXT")
    facts = [("Statement", f"#{v.statement_id}"), ("Date", v.generated_on.isoformat()),
             ("Account", v.account_no), ("Please pay by", v.due_on.isoformat()), ("Amount due", fmt(v.amount_due))]
    for label, value in facts:
        pdf.set_x(pdf.l_margin + width / 2)
        font(9.5, label == "Amount due")
        pdf.cell(width / 2 - 32, 5, _latin1(label), align="R", new_x="RIGHT", new_y="TOP")
        pdf.cell(32, 5, _latin1(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 3)
    if v.status == "void":
        line("VOID - replaced by a newer statement", bold=True, size=12)
    if v.final_notice:
        line("FINAL NOTICE", bold=True, size=12)
    line(v.patient_name, bold=True)
    for text in v.address:
        line(text)

    if v.summary:
        heading("Account summary")
        for label, cents in v.summary:
            line(label, _signed(cents))
        line("Amount due", fmt(v.amount_due), bold=True)

    heading("Your visits")
    desc_w = width - 4 * amount_w
    font(8.5, True)
    for text, w, align in (("Date / provider / service", desc_w, "L"), ("Billed", amount_w, "R"),
                           ("Insurance paid", amount_w, "R"), ("Adjusted", amount_w, "R"),
                           ("Your portion", amount_w, "R")):
        pdf.cell(w, 5, text, align=align, new_x="RIGHT", new_y="TOP")
    pdf.ln(5)
    for visit in v.visits:
        font(9.5, True)
        pdf.cell(width, 5, _latin1(f"{visit.dos.isoformat()}   {visit.provider}"), new_x="LMARGIN", new_y="NEXT")
        for s in visit.services:
            font(9.5)
            amounts = ([fmt(s.billed), _signed(s.insurance), _signed(s.adjusted), fmt(s.portion)] if v.itemized
                       else ["", "", "", fmt(s.owed)])
            pdf.cell(desc_w, 5, _latin1("    " + s.service), new_x="RIGHT", new_y="TOP")
            for text in amounts:
                pdf.cell(amount_w, 5, text, align="R", new_x="RIGHT", new_y="TOP")
            pdf.ln(5)
            if v.itemized and s.pending:
                pdf.cell(desc_w, 5, "        not yet paid by insurance", new_x="RIGHT", new_y="TOP")
                pdf.cell(amount_w, 5, "", new_x="RIGHT", new_y="TOP")
                pdf.cell(amount_w, 5, _signed(s.pending), align="R", new_x="LMARGIN", new_y="NEXT")
    if not v.visits:
        line("(none)")
    pdf.ln(1)
    if v.itemized:
        line("Your portion of these visits", fmt(v.portion_total))
        if v.payments:
            line("Your payments on these visits")
            for day, label, cents in v.payments:
                line(f"      {day.isoformat()}   {label}", fmt(cents))
        if v.credit is not None:
            line(*v.credit[:1], fmt(v.credit[1]))
        if v.plan is not None:
            line(v.plan[0], fmt(v.plan[1]))
    else:
        line("Total of charges", fmt(v.balance_total), bold=True)
        for day, desc, cents in v.payments:
            line(f"{day.isoformat()}   {desc}", fmt(cents))
    pdf.ln(1)
    font(11, True)
    pdf.cell(width - 35, 7, _latin1(f"AMOUNT DUE by {v.due_on.isoformat()}"), border="TB", new_x="RIGHT",
             new_y="TOP")
    pdf.cell(35, 7, fmt(v.amount_due), border="TB", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    label = "Account aging" + (" (after your credit on account)" if v.credit is not None else "")
    line(f"{label}:   " + "   ".join(f"{name}: {fmt(cents)}" for name, cents in v.aging), size=8.5)
    if v.message:
        pdf.ln(2)
        font(9.5, v.final_notice)
        pdf.multi_cell(width, 5, _latin1(v.message), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    line("Balances still pending with your insurance are not billed to you.", size=8.5)
    if v.clinic_phone:
        line(f"Questions about your bill? Call {v.clinic_phone}.", size=8.5)
    _coupon(pdf, v, width)
    target = Path(path)
    files.write_private(target, bytes(pdf.output()))
    return target


def _coupon(pdf, v: StatementView, width: float) -> None:
    """The tear-off payment coupon at the foot of the last page."""
    top = pdf.h - pdf.b_margin
    pdf.set_auto_page_break(False)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.line(pdf.l_margin, top + 4, pdf.l_margin + width, top + 4)
    pdf.set_dash_pattern()
    pdf.set_xy(pdf.l_margin, top + 5)
    pdf.set_font("Helvetica", "I", 7.5)
    pdf.cell(width, 4, COUPON_NOTE, align="C", new_x="LMARGIN", new_y="NEXT")
    y = top + 11
    pdf.set_xy(pdf.l_margin, y)
    pdf.set_font("Helvetica", "B", 9.5)
    pdf.cell(80, 5, "Make checks payable and mail to:", new_x="LMARGIN", new_y="NEXT")
    for i, text in enumerate(v.remit_to or ("the clinic",)):
        pdf.set_font("Helvetica", "B" if i == 0 else "", 10.5 if i == 0 else 9.5)
        pdf.cell(80, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 9.5)
    pdf.cell(80, 5, _latin1(f"From: {v.patient_name}"), new_x="LMARGIN", new_y="NEXT")
    for text in v.address:
        pdf.cell(80, 5, _latin1(f"      {text}"), new_x="LMARGIN", new_y="NEXT")
    x = pdf.l_margin + width - 95
    rows = [("Account number", v.account_no), ("Statement", f"#{v.statement_id} of {v.generated_on.isoformat()}"),
            ("Please pay by", v.due_on.isoformat()), ("Amount due", fmt(v.amount_due)), ("Amount enclosed", "")]
    pdf.set_xy(x, y)
    for label, value in rows:
        big = label in ("Amount due", "Amount enclosed")
        h = 8 if big else 6.5
        pdf.set_x(x)
        pdf.set_font("Helvetica", "B" if big else "", 9.5)
        pdf.cell(45, h, label, border=1, new_x="RIGHT", new_y="TOP")
        pdf.set_font("Helvetica", "B" if big else "", 10.5 if big else 9.5)
        pdf.cell(50, h, _latin1(value if value else "$"), border=1, align="R" if value else "L",
                 new_x="LMARGIN", new_y="NEXT")
