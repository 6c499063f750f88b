"""Plugins: what was loaded (and what each contributes), what failed and why, what is disabled."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from claimdesk.core.services import views
from claimdesk.tui.screens.base import BaseScreen
from claimdesk.tui.widgets.table import Table


def failures_text(report: dict) -> Text:
    """Built-ins replaced by a plugin (loudly, first), then the failed and skipped plugins, each
    with its error."""
    t = Text()
    replaced, failures = report["replaced"], report["failures"]
    if replaced:
        t.append(f"⚠ {len(replaced)} BUILT-IN(S) REPLACED by a plugin (the config file's [plugins] replace):\n",
                 style="bold reverse")
        for f in replaced:
            t.append(f"  ⚠ {f['name']}: {f['error']}\n", style="bold")
    if failures:
        t.append(f"{len(failures)} failed (skipped, the rest keep working):\n", style="bold")
        for f in failures:
            t.append(f"  ✘ {f['name']} ({f['stage']}): {f['error']}\n")
    else:
        t.append("No plugin failed.\n")
    if report["skipped"]:
        t.append("Disabled in the config: " + ", ".join(report["skipped"]))
    return t


class PluginsScreen(BaseScreen):
    """Loaded plugins with what they contribute; failures with their errors."""

    TITLE = "Plugins"
    BINDINGS = [Binding("escape", "back", "Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="plugins-failures", classes="facts")
        yield Table(id="plugins-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Plugin", "Source", "Contributes")
        self.call(views.plugins_report, done=self.fill)

    def fill(self, report: dict) -> None:
        replaced, failed = len(report["replaced"]), len(report["failures"])
        self.sub_title = (f"{len(report['plugins'])} loaded, {failed} failed"
                          + (f", {replaced} built-in(s) REPLACED" if replaced else "")
                          + f" · plugin API {report['api_version']}")
        self.query_one("#plugins-failures", Static).update(failures_text(report))
        table = self.query_one(DataTable)
        for p in report["plugins"]:
            source = "built-in" if p["builtin"] else f"{p['distribution']} {p['version']}"
            table.add_row(p["name"], source, ", ".join(p["contributes"]) or ", ".join(p["hooks"]))
        table.focus()
