"""Patient statements: ``statements run|generate|regenerate|show``."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group, output_file, writing
from claimdesk.core.cli.output import Result, money, pairs
from claimdesk.core.services import statement_render, statements

STATEMENT_MONEY = ("amount_due",)


def register(subparsers) -> None:
    """Add the ``statements`` group."""
    sub = group(subparsers, "statements", "Patient statements (never for balances pending with an insurer)")
    command(sub, "run", "Statements for every patient with a balance, applying the statement rules "
                        "(lists whom it skipped, and why)", run)
    p = command(sub, "generate", "A statement for one patient now (voids the active one)", generate)
    p.add_argument("patient_id", metavar="PATIENT_ID")
    p = command(sub, "regenerate", "Void the patient's active statement and make a new one", regenerate)
    p.add_argument("patient_id", metavar="PATIENT_ID")
    p.add_argument("--reason", default="", help="kept on the voided statement")
    p = command(sub, "show", "Print a statement as text (and write it as PDF, with its payment coupon, with "
                             "--pdf FILE)", show)
    p.add_argument("statement_id", metavar="STATEMENT_ID")
    p.add_argument("--pdf", metavar="FILE", help="also write the statement as a PDF")


def _made(res: dict) -> str:
    flag = " FINAL NOTICE" if res.get("final_notice") else ""
    return f"statement {res['statement_id']} for patient {res['patient_id']}: {money(res['amount_due'])} due{flag}"


def run(args) -> Result:
    """The statement run."""
    res = statements.generate_all(rules=args.settings.statements)
    text = f"{res['statements']} statement(s), {money(res['amount_due'])} due in all"
    if res["generated"]:
        text += "\n" + "\n".join(_made(g) for g in res["generated"])
    if res["skipped"]:  # each with its whole reason (a table would cut it to fit the terminal)
        text += f"\n\n{len(res['skipped'])} patient(s) skipped:\n" + "\n".join(
            f"patient {s['patient_id']} ({s['account_no']}): {s['reason']}" for s in res["skipped"])
    return Result(res, text, money=STATEMENT_MONEY)


def generate(args) -> Result:
    """One patient's statement."""
    res = statements.generate_for(args.patient_id, rules=args.settings.statements)
    return Result(res, _made(res) + (f"\n{res['message']}" if res["message"] else ""), money=STATEMENT_MONEY)


def regenerate(args) -> Result:
    """Void and make again."""
    res = statements.regenerate(args.patient_id, args.reason, rules=args.settings.statements)
    return Result(res, pairs([("voided statement", res["voided_statement_id"]),
                              ("new statement", res["statement_id"]), ("amount due", money(res["amount_due"])),
                              ("notice", "FINAL NOTICE" if res["final_notice"] else res["message"] or "-")]),
                  money=STATEMENT_MONEY)


def show(args) -> Result:
    """Render a statement."""
    pdf = output_file(args.pdf, "pdf")
    text = statement_render.render_text(args.statement_id)
    data = {"statement_id": int(args.statement_id), "text": text}
    if pdf is not None:
        with writing("pdf", pdf):
            data["pdf"] = str(statement_render.render_pdf(args.statement_id, pdf))
        text += f"\nPDF written to {data['pdf']}"
    return Result(data, text.rstrip("\n"))
