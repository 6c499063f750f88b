"""Home: the work queues with their counts, and the menus the plugins make."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from claimdesk.core.services import era_exceptions, intake_views, views
from claimdesk.tui.screens.base import BaseScreen


def _row(left: str, right: str, width: int) -> Text:
    """``left`` and ``right`` on one line, right-aligned to ``width``."""
    left = left if len(left) + len(right) + 1 <= width else left[: max(1, width - len(right) - 2)] + "…"
    text = Text(left)
    text.append(" " * max(1, width - len(left) - len(right)))
    text.append(right, style="bold")
    return text


def load_home() -> dict:
    """Everything the home screen shows (runs in a worker)."""
    summary = views.desk_summary()
    return {"queues": summary["queues"], "summary": summary, "facts": views.menu_facts(),
            "setup": intake_views.setup_counts(), "era_exceptions": era_exceptions.count_open()}


def setup_hint(setup: dict) -> str:
    """What a clinic still has to set up before it can enter charges ("" when nothing)."""
    missing = [what for what, n in (("provider", setup["providers"]), ("service code", setup["codes"])) if not n]
    return f"No {' or '.join(missing)} yet: press t for Clinic setup" if missing else ""


class HomeScreen(BaseScreen):
    """Work queues on the left, workflows on the right."""

    TITLE = "claimdesk"
    SUB_TITLE = None  # (the app's: who is working, on which database)
    BINDINGS = [
        Binding("escape", "back", "Back", show=False),
        Binding("a", "app.open_advanced", "Advanced"),
        Binding("c", "app.open_credit", "Credit"),
        Binding("k", "app.open_checks", "Checks"),
        Binding("l", "app.open_ledger", "Ledger"),
        Binding("e", "app.open_batch_posting", "Batch posting", show=False),
        Binding("i", "app.open_inbox", "Inbox", show=False),
        Binding("d", "app.open_daysheet", "Daysheet", show=False),
        Binding("u", "app.open_audit", "Audit log", show=False),
        Binding("p", "app.open_plugins", "Plugins", show=False),
        Binding("z", "app.open_zero_splits", "Zero splits", show=False),
        Binding("b", "app.open_claim_batches", "Claim batches", show=False),
        Binding("g", "app.open_aging", "Aging", show=False),
        Binding("s", "app.open_statements", "Statements", show=False),
        Binding("n", "app.open_registration", "Registration", show=False),
        Binding("h", "app.open_charge_entry", "Charge entry", show=False),
        Binding("t", "app.open_clinic_setup", "Clinic setup", show=False),
        Binding("m", "claim_import", "Import 837", show=False),
        Binding("v", "app.open_era_import", "Post ERA", show=False),
        Binding("x", "app.open_era_exceptions", "ERA exceptions", show=False),
        Binding("f", "app.open_credit_balances", "Credit balances", show=False),
        Binding("w", "app.open_payment_plans", "Payment plans", show=False),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="home"):
            with Vertical(id="queues-pane", classes="pane"):
                yield Label("Work queues", classes="pane-title")
                yield OptionList(id="queues", compact=True)
            with Vertical(id="menu-pane", classes="pane"):
                yield Label("Workflows", classes="pane-title")
                yield OptionList(id="menu", compact=True)
        yield Static("", id="home-summary")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def on_screen_resume(self) -> None:
        if self.query_one("#menu", OptionList).option_count:
            self.action_refresh()

    def action_refresh(self) -> None:
        self.call(load_home, done=self.fill, group="home", exclusive=True)

    def fill(self, info: dict) -> None:
        queues = self.query_one("#queues", OptionList)
        keep_q = queues.highlighted
        queues.clear_options()
        width = max(20, queues.size.width or 30)
        queues.add_options([Option(_row(q["name"], f"{q['count']:,}", width), id=f"queue:{q['key']}")
                            for q in info["queues"]])
        facts = info["facts"]
        menu = self.query_one("#menu", OptionList)
        keep_m = menu.highlighted
        menu.clear_options()
        mw = max(30, menu.scrollable_content_region.width or 44)  # (the gutter kept for its scrollbar)
        opts = [Option(_row("Patient registration · coverage", "n", mw), id="registration"),
                Option(_row("Charge entry · new encounter", "h", mw), id="charge_entry"),
                Option(_row("Advanced Actions", f"{len(facts['actions'])} actions", mw), id="advanced")]
        if facts["methods"]:
            opts += [Option(_row(f"Credit entry · {m['label']}", "", mw), id=f"credit:{m['key']}")
                     for m in facts["methods"]]
        else:
            opts.append(Option("Credit entry (no payment-method plugin)", id="credit:", disabled=True))
        fees = ", ".join(f["label"] for f in facts["fee_policies"]) or "no fee policy plugin"
        fees = f"  fees: {fees}"
        fees = fees if len(fees) <= mw - 1 else fees[: mw - 2] + "…"
        opts.append(Option(Text.assemble("Payer checks · return check\n", (fees, "dim")),
                           id="checks"))
        opts.append(Option(_row("Post ERA · 835 remittance file", "v", mw), id="era_import"))
        opts.append(Option(_row("ERA exceptions · resolve", f"{info['era_exceptions']:,} open · x", mw),
                           id="era_exceptions"))
        opts.append(Option(_row("Batch posting · typed or lockbox lines", "e", mw), id="batch_posting"))
        if self.app.claim_import_available():
            opts.append(Option(_row("Import 837 claim file", "m", mw), id="claim_import"))
        opts.append(Option(_row("Patient ledger", "l", mw), id="ledger"))
        opts.append(Option(_row("Outstanding Zero Splits", "z", mw), id="zero_splits"))
        opts.append(Option(_row("Claim batches", "b", mw), id="claim_batches"))
        opts.append(Option(_row("Aging", "g", mw), id="aging"))
        opts.append(Option(_row("Statements", "s", mw), id="statements"))
        opts.append(Option(_row("Credit balances · refunds", "f", mw), id="credit_balances"))
        opts.append(Option(_row("Payment plans", "w", mw), id="payment_plans"))
        opts.append(Option(_row("Daysheet · provider activity", "d", mw), id="daysheet"))
        opts.append(Option(_row("Admin inbox", f"{info['summary']['open_messages']} open", mw), id="inbox"))
        opts.append(Option(_row("Clinic setup · payers, providers, codes", "t", mw), id="clinic_setup"))
        opts.append(Option(_row("Audit log", "u", mw), id="audit"))
        failed = f", {facts['failures']} failed" if facts["failures"] else ""
        if facts.get("replaced"):
            failed += f", {facts['replaced']} built-in(s) REPLACED"
        opts.append(Option(_row("Plugins", f"{facts['plugins']} loaded{failed}", mw), id="plugins"))
        menu.add_options(opts)
        for widget, keep in ((queues, keep_q), (menu, keep_m)):
            if widget.option_count:
                widget.highlighted = keep if keep is not None and keep < widget.option_count else 0
        s = info["summary"]
        hint = setup_hint(info["setup"])
        self.query_one("#home-summary", Static).update(
            hint or f"{s['queued']:,} encounters in work queues · {s['open_messages']:,} open admin messages")
        if self.focused is None:
            queues.focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The import key works only when the import screen is installed."""
        if action == "claim_import":
            return self.app.claim_import_available()
        return True

    def action_claim_import(self) -> None:
        self.app.open_claim_import()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        ident = event.option.id or ""
        app = self.app
        if ident.startswith("queue:"):
            app.open_queue(ident.split(":", 1)[1])
        elif ident == "advanced":
            app.open_advanced()
        elif ident.startswith("credit:"):
            app.open_credit(ident.split(":", 1)[1] or None)
        elif ident == "checks":
            app.open_checks()
        elif ident in ("batch_posting", "zero_splits", "claim_batches", "aging", "statements", "registration",
                       "charge_entry", "clinic_setup", "claim_import", "era_import", "era_exceptions",
                       "credit_balances", "payment_plans"):
            getattr(app, f"open_{ident}")()
        elif ident == "ledger":
            app.open_ledger()
        elif ident == "daysheet":
            app.open_daysheet()
        elif ident == "audit":
            app.open_audit()
        elif ident == "inbox":
            app.open_inbox()
        elif ident == "plugins":
            app.open_plugins()
