"""The claimdesk Textual app: opens on Home, every workflow one key or palette entry away.

``run(settings)`` is what the CLI calls for ``claimdesk`` with no arguments: it
connects to the configured database, refuses a missing or too-new schema with a
one-line message, loads the plugins and runs the app. ``main()`` does the same
from the environment / config file (``CLAIMDESK_DB``, ``CLAIMDESK_CONFIG``), as the login running it.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
import time

from textual import events
from textual.app import App
from textual.binding import Binding

from claimdesk.core import config, session
from claimdesk.core.db import StorageError
from claimdesk.tui import release_gc
from claimdesk.tui.commands import WorkflowCommands


class ClaimdeskApp(App):
    """The billing desk. Screens are pushed on top of Home; Escape goes back."""

    CSS_PATH = "app.tcss"
    TITLE = "claimdesk"
    COMMANDS = App.COMMANDS | {WorkflowCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        Binding("ctrl+k", "cancel_work", "Cancel work", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    #: How often the idle time is looked at, seconds.
    IDLE_CHECK_SECONDS = 15

    def __init__(self, settings: config.Settings | None = None, *, ansi: bool | None = None):
        super().__init__()
        self.settings = settings
        self.ansi = ansi
        self.last_input = self.idle_clock()
        self.locked_at: float | None = None

    # -- automatic logoff: idle, the app locks; locked, it closes -------------------------
    def idle_clock(self) -> float:
        """Seconds on a steady clock (tests put their own)."""
        return time.monotonic()

    def lock_minutes(self) -> tuple[int, int]:
        """``[app] lock_minutes`` and ``exit_minutes`` (the defaults without settings)."""
        s = self.settings or config.Settings(db_url="", user="")
        return s.lock_minutes, s.exit_minutes

    async def on_event(self, event: events.Event) -> None:
        """Every key and click counts as the user being there (not while locked)."""
        if self.locked_at is None and isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown,
                                                         events.MouseScrollUp)):
            self.last_input = self.idle_clock()
        await super().on_event(event)

    def look_at_idle_time(self) -> None:
        """Lock after ``lock_minutes`` without input; close after ``exit_minutes`` locked."""
        lock, leave = self.lock_minutes()
        now = self.idle_clock()
        if self.locked_at is None:
            if lock and now - self.last_input >= lock * 60:
                self.lock()
        elif leave and now - self.locked_at >= leave * 60:
            self.exit(message=f"claimdesk closed: locked for {leave} minute(s).")

    def lock(self) -> None:
        """Hide everything behind the lock screen."""
        from claimdesk.tui.screens.lock import LockScreen

        if self.locked_at is None:
            self.locked_at = self.idle_clock()
            self.push_screen(LockScreen(self.lock_minutes()[0]))

    def unlock(self) -> None:
        """The passphrase was right: back to where the user was."""
        from claimdesk.tui.screens.lock import LockScreen

        if isinstance(self.screen, LockScreen):
            self.pop_screen()
        self.locked_at = None
        self.last_input = self.idle_clock()

    def action_command_palette(self) -> None:
        """The command palette, never over the lock screen."""
        if self.locked_at is None:
            super().action_command_palette()

    def on_mount(self) -> None:
        """Open Home; use the ANSI theme where the terminal has only 16 colours."""
        ansi = self.ansi
        if ansi is None:
            ansi = os.environ.get("CLAIMDESK_ANSI") == "1" or self.console.color_system == "standard"
        if ansi:  # the 16 terminal colours themselves (Textual 8 calls the theme "ansi-dark")
            self.theme = next(name for name in ("ansi-dark", "textual-ansi") if name in self.available_themes)
        from claimdesk.tui.screens.home import HomeScreen

        self.sub_title = where_and_who()
        self.push_screen(HomeScreen())
        self.call_after_refresh(release_gc)  # (the start is over: see hold_gc_until_first_screen)
        if any(self.lock_minutes()):
            self.set_interval(self.IDLE_CHECK_SECONDS, self.look_at_idle_time)

    # -- navigation (used by Home, the palette and key bindings) -------------------------
    def open_advanced(self, encounter_id=None, action_key: str | None = None) -> None:
        """Advanced Actions, optionally on one encounter and one action."""
        from claimdesk.tui.screens.advanced import AdvancedActionsScreen

        self.push_screen(AdvancedActionsScreen(encounter_id, action_key))

    def open_credit(self, method: str | None = None, patient_id=None) -> None:
        """Credit entry, optionally with a payment method chosen."""
        from claimdesk.tui.screens.credit import CreditEntryScreen

        self.push_screen(CreditEntryScreen(method=method, patient_id=patient_id))

    def open_checks(self) -> None:
        """Payer checks: vouchers with undistributed money; return a check."""
        from claimdesk.tui.screens.checks import PayerChecksScreen

        self.push_screen(PayerChecksScreen())

    def open_batch_posting(self, voucher_id=None) -> None:
        """Batch posting: one payer check spread over many patients from a lines file."""
        from claimdesk.tui.screens.batch_posting import BatchPostingScreen

        self.push_screen(BatchPostingScreen(voucher_id))

    def open_queue(self, key: str) -> None:
        """The encounters waiting in one work queue."""
        from claimdesk.tui.screens.queue import QueueScreen

        self.push_screen(QueueScreen(key))

    def open_ledger(self, patient_id=None) -> None:
        """A patient's ledger."""
        from claimdesk.tui.screens.ledger import PatientLedgerScreen

        self.push_screen(PatientLedgerScreen(patient_id))

    def open_inbox(self) -> None:
        """The admin inbox."""
        from claimdesk.tui.screens.inbox import InboxScreen

        self.push_screen(InboxScreen())

    def open_audit(self) -> None:
        """The audit log."""
        from claimdesk.tui.screens.audit import AuditScreen

        self.push_screen(AuditScreen())

    def open_plugins(self) -> None:
        """Loaded and failed plugins."""
        from claimdesk.tui.screens.plugins import PluginsScreen

        self.push_screen(PluginsScreen())

    def open_daysheet(self) -> None:
        """Today's daysheet and provider activity."""
        from claimdesk.tui.screens.daysheet import DaysheetScreen

        self.push_screen(DaysheetScreen())

    def open_zero_splits(self) -> None:
        """Outstanding Zero Splits."""
        from claimdesk.tui.screens.zero_splits import ZeroSplitsScreen

        self.push_screen(ZeroSplitsScreen())

    def open_claim_batches(self) -> None:
        """Claims queued for the next batch; build it."""
        from claimdesk.tui.screens.claim_batches import ClaimBatchesScreen

        self.push_screen(ClaimBatchesScreen())

    def open_aging(self) -> None:
        """The aging report."""
        from claimdesk.tui.screens.aging import AgingScreen

        self.push_screen(AgingScreen())

    def open_statements(self) -> None:
        """Statement run and one patient's statement."""
        from claimdesk.tui.screens.statements import StatementsScreen

        self.push_screen(StatementsScreen())

    def open_registration(self, patient_id=None) -> None:
        """Patient registration: find, register or edit a patient and their coverages."""
        from claimdesk.tui.screens.registration import RegistrationScreen

        self.push_screen(RegistrationScreen(patient_id))

    def open_charge_entry(self, patient_id=None) -> None:
        """Charge entry: a new encounter with its lines for one patient."""
        from claimdesk.tui.screens.charge_entry import ChargeEntryScreen

        self.push_screen(ChargeEntryScreen(patient_id))

    def open_clinic_setup(self, tab: str | None = None, new: bool = False) -> None:
        """Clinic setup: the payers, providers and service codes the clinic works with; on ``tab``
        (payers, providers, codes), with the form for a new one open when ``new``."""
        from claimdesk.tui.screens.clinic_setup import ClinicSetupScreen

        self.push_screen(ClinicSetupScreen(tab, new=new))

    def claim_import_available(self) -> bool:
        """Is the 837 claim file import screen installed (its module may come later)?"""
        return claim_import_available()

    def open_claim_import(self) -> None:
        """Import the clinic's 837P claim files (when that screen is installed)."""
        if not claim_import_available():
            self.notify("The 837 claim file import screen is not installed in this claimdesk.",
                        severity="warning", timeout=6)
            return
        try:
            from claimdesk.tui.screens.claim_import import ClaimImportScreen
        except Exception as exc:  # noqa: BLE001 - a broken screen module must not take the app down
            self.notify(f"The 837 claim file import screen cannot open: {type(exc).__name__}: {exc}",
                        title="Not opened", severity="error", timeout=8)
            return
        self.push_screen(ClaimImportScreen())

    def open_era_import(self) -> None:
        """Post ERA: payers' 835 remittance files, previewed, then posted as vouchers and EOBs."""
        from claimdesk.tui.screens.era_import import EraImportScreen

        self.push_screen(EraImportScreen())

    def open_era_exceptions(self) -> None:
        """The ERA exceptions: remittance claims not posted, with their reasons; resolve them."""
        from claimdesk.tui.screens.era_import import EraExceptionsScreen

        self.push_screen(EraExceptionsScreen())

    def open_credit_balances(self) -> None:
        """Credit balances: every account holding money, with its age; refund from it."""
        from claimdesk.tui.screens.credit_balances import CreditBalancesScreen

        self.push_screen(CreditBalancesScreen())

    def open_payment_plans(self) -> None:
        """Payment plans: what is due and missed; make a plan; check for missed instalments."""
        from claimdesk.tui.screens.payment_plans import PaymentPlansScreen

        self.push_screen(PaymentPlansScreen())

    def go_home(self) -> None:
        """Back to Home, closing every screen above it."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    # key-binding / palette actions
    def action_open_advanced(self) -> None:
        self.open_advanced()

    def action_open_credit(self) -> None:
        self.open_credit()

    def action_open_checks(self) -> None:
        self.open_checks()

    def action_open_batch_posting(self) -> None:
        self.open_batch_posting()

    def action_open_ledger(self) -> None:
        self.open_ledger()

    def action_open_inbox(self) -> None:
        self.open_inbox()

    def action_open_audit(self) -> None:
        self.open_audit()

    def action_open_plugins(self) -> None:
        self.open_plugins()

    def action_open_daysheet(self) -> None:
        self.open_daysheet()

    def action_open_zero_splits(self) -> None:
        self.open_zero_splits()

    def action_open_claim_batches(self) -> None:
        self.open_claim_batches()

    def action_open_aging(self) -> None:
        self.open_aging()

    def action_open_statements(self) -> None:
        self.open_statements()

    def action_open_registration(self) -> None:
        self.open_registration()

    def action_open_charge_entry(self) -> None:
        self.open_charge_entry()

    def action_open_clinic_setup(self) -> None:
        self.open_clinic_setup()

    def action_open_claim_import(self) -> None:
        self.open_claim_import()

    def action_open_era_import(self) -> None:
        self.open_era_import()

    def action_open_era_exceptions(self) -> None:
        self.open_era_exceptions()

    def action_open_credit_balances(self) -> None:
        self.open_credit_balances()

    def action_open_payment_plans(self) -> None:
        self.open_payment_plans()

    def action_cancel_work(self) -> None:
        """Cancel the current screen's running service calls (their results are dropped)."""
        running = [w for w in self.screen.workers if not w.is_finished]
        for worker in running:
            worker.cancel()
        self.notify(f"Cancelled {len(running)} running task(s); anything already finished was saved."
                    if running else "Nothing is running.", timeout=5)


def where_and_who() -> str:
    """The header's second part: who is working, on which database (``ann · clinic.db``;
    ``ann · clinic on db.example.org``), so a clerk with two windows knows which is which."""
    from pathlib import Path

    from claimdesk.core import db
    from claimdesk.core.context import current_user

    obj = db.database.obj
    if obj is None:
        return current_user()
    if db.is_postgres():
        host = obj.connect_params.get("host") or "this machine"
        return f"{current_user()} · {obj.database} on {host}"
    return f"{current_user()} · {Path(str(obj.database)).name}"


def claim_import_available() -> bool:
    """True when ``claimdesk.tui.screens.claim_import`` can be imported (found without importing it)."""
    try:
        return importlib.util.find_spec("claimdesk.tui.screens.claim_import") is not None
    except (ImportError, ValueError):
        return False


_startup_frozen = False


def prepare(settings: config.Settings) -> None:
    """Connect to the database, check its schema, set the user and load the plugins; then
    freeze what the start loaded out of the garbage collector's way.

    A brand-new database (no schema at all) is set up as ``claimdesk init`` sets it up (the
    schema, and the person starting the app registered as its first admin), so a clinic can
    begin in the app alone; one with an older schema is refused (``claimdesk db upgrade``)."""
    from claimdesk.core import migrations, users

    session.start(settings, check_schema=False)
    if migrations.current_version() == 0:
        migrations.upgrade()
        users.ensure_admin(settings.user)
    migrations.check()
    _freeze_startup_objects()


def _freeze_startup_objects() -> None:
    """Once per process, after the code and the plugins are loaded: hand what exists now
    (modules, classes, plugin records; objects that live as long as the process) to the
    garbage collector's permanent generation, so its full collections stop walking them.
    One such collection during the first screen cost 30-70 ms; afterwards they only walk
    what the app allocates."""
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.freeze()


def run(settings: config.Settings) -> int:
    """Run the app on ``settings``; returns the process exit code."""
    try:
        prepare(settings)
    except StorageError as exc:
        print(f"claimdesk: {exc}", file=sys.stderr)
        return 2
    app = ClaimdeskApp(settings)
    try:
        app.run()
    finally:
        session.end()
    return app.return_code or 0


def main() -> None:
    """Entry point for ``python -c 'from claimdesk.tui.app import main; main()'``."""
    raise SystemExit(run(config.load()))
