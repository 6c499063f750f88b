"""Clinic setup: the insurance payers, providers and service codes the clinic works with.

One tab each (keys 1-3); ``n`` adds one to the tab shown, Enter changes the highlighted one
(:mod:`.record_form`). Adding and changing them is a supervisor's work: the core says so when
a clerk tries, under the form. A new clinic starts here: with no provider and no service code
no charge can be entered. The clinic itself (the billing provider on its claims) is the
``[clinic]`` section of the config file, not a record here.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from claimdesk.core.money import fmt
from claimdesk.core.services import intake_views, reference_data
from claimdesk.tui.screens.base import BaseScreen
from claimdesk.tui.widgets.table import clip
from claimdesk.tui.screens.record_form import Field, RecordDialog, RecordForm
from claimdesk.tui.widgets.table import Table

ADDRESS = ((Field("address", "Address"),),
           (Field("city", "City", "w-city"), Field("state", "State", "w-state", placeholder="OR"),
            Field("zip", "ZIP", "w-zip")))

FORMS = {
    "payers": RecordForm(
        "payer", "payer_id",
        ((Field("name", "Name"),),
         (Field("kind", "Kind", "w-short", choices="payer_kinds", default="commercial"),
          Field("payer_code", "Payer ID", placeholder="as claims carry it (60054)")),
         *ADDRESS, (Field("phone", "Phone", "w-phone"),),
         (Field("remit_ids", "ERA ids", placeholder="other payer ids its 835s carry, if any: 1362222222"),)),
        reference_data.add_payer, reference_data.edit_payer,
        lambda r: f"{r['name']} (payer id {r['payer_code']})"),
    "providers": RecordForm(
        "provider", "provider_id",
        ((Field("last_name", "Last name"), Field("first_name", "First name")),
         (Field("name", "Shown as", placeholder="default: First Last (an organization: its name)"),),
         (Field("kind", "Kind", "w-short", choices="provider_kinds"),
          Field("entity", "Entity", choices="entities")),
         (Field("npi", "NPI", "w-npi", placeholder="10 digits"), Field("taxonomy", "Taxonomy", placeholder="207Q00000X"),
          Field("tax_id", "Tax ID", "w-npi")),
         *ADDRESS),
        reference_data.add_provider, reference_data.edit_provider,
        lambda r: f"{r['name']}" + (f" (NPI {r['npi']})" if r.get("npi") else "")),
    "codes": RecordForm(
        "service code", "service_code_id",
        ((Field("code", "Code", "w-code", placeholder="99213", fixed_on_edit=True),
          Field("kind", "Kind", choices="code_kinds", blank="from the code's shape")),
         (Field("description", "Description"),),
         (Field("default_fee", "Fee", "w-fee", placeholder="0.00", money=True),)),
        reference_data.add_code, reference_data.CODE.edit,
        lambda r: f"{r['code']} {r['description']} at {fmt(r['default_fee'])}"),
}

COLUMNS = {
    "payers": ("Name", "Kind", "Payer ID", "City"),
    "providers": ("Name", "Kind", "NPI", "Taxonomy"),
    "codes": ("Code", "Kind", "Fee", "Description"),
}
TITLES = {"payers": "Payers", "providers": "Providers", "codes": "Service codes"}


def rows_for(lists: dict) -> dict[str, list[tuple]]:
    """The three lists as table rows (long names cut to fit 80 columns; the form shows them whole)."""
    fee_width = max((len(fmt(c["default_fee"])) for c in lists["codes"]), default=0)
    return {
        "payers": [(clip(p["name"], 34), p["kind"].replace("_", " "), p["payer_code"], clip(p["city"], 16))
                   for p in lists["payers"]],
        "providers": [(clip(p["name"], 34), p["kind"], p["npi"] or "—", p["taxonomy"] or "—")
                      for p in lists["providers"]],
        "codes": [(c["code"], c["kind"], f"{fmt(c['default_fee']):>{fee_width}}", clip(c["description"], 46))
                  for c in lists["codes"]],
    }


class ClinicSetupScreen(BaseScreen):
    """Payers, providers and service codes: n adds, Enter changes, 1-3 switch the tabs."""

    TITLE = "Clinic setup"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("n", "new", "New"),
        Binding("enter", "edit", "Change", show=True),
        *[Binding(str(n), f"tab('{name}')", TITLES[name], show=False) for n, name in enumerate(FORMS, 1)],
    ]

    def __init__(self, tab: str | None = None, *, new: bool = False):
        super().__init__()
        self.start_tab = tab if tab in FORMS else "payers"
        self.start_new = new  # open the form for a new record once the lists are in
        self.lists: dict = {}
        self.saved_id: tuple[str, int] | None = None  # the record just saved: its row gets the cursor

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="setup-tabs", initial=f"tab-{self.start_tab}"):
            for n, name in enumerate(FORMS, 1):
                with TabPane(f"{n} {TITLES[name]}", id=f"tab-{name}"):
                    table = Table(id=f"setup-{name}", cursor_type="row")
                    table.add_columns(*COLUMNS[name])
                    yield table
        yield Static("", id="setup-status", classes="intake-status")
        yield Static("n adds one to this tab · Enter changes the highlighted one · 1-3 switch tabs",
                     id="setup-hint", classes="hint facts")
        yield Footer()

    def on_mount(self) -> None:
        self.say("")
        self.reload()

    def say(self, text: str) -> None:
        """What was just done, over the hint (no room taken when nothing)."""
        status = self.query_one("#setup-status", Static)
        status.update(Text(text))
        status.display = bool(text)

    def reload(self) -> None:
        self.call(intake_views.setup_lists, done=self.fill, group="setup", exclusive=True)

    def fill(self, lists: dict) -> None:
        self.lists = lists
        for name, rows in rows_for(lists).items():
            table = self.query_one(f"#setup-{name}", DataTable)
            table.clear()
            table.add_rows(rows)
            if self.saved_id and self.saved_id[0] == name:
                ids = [r[FORMS[name].id_field] for r in lists[name]]
                if self.saved_id[1] in ids:
                    table.move_cursor(row=ids.index(self.saved_id[1]))
        self.saved_id = None
        self.show_counts()
        self.query_one(f"#setup-{self.tab}", DataTable).focus()
        if self.start_new:
            self.start_new = False
            self.action_new()

    @property
    def tab(self) -> str:
        return (self.query_one("#setup-tabs", TabbedContent).active or "tab-payers").removeprefix("tab-")

    def show_counts(self) -> None:
        if not self.lists:
            return
        empty = [TITLES[n].lower() for n in FORMS if not self.lists[n]]
        listed = ", ".join(empty[:-1]) + (" or " if len(empty) > 1 else "") + (empty[-1] if empty else "")
        hint = (f"No {listed} yet: n adds one on the tab shown." if empty
                else "n adds one to this tab · Enter changes the highlighted one · 1-3 switch tabs")
        self.query_one("#setup-hint", Static).update(hint)

    def action_tab(self, name: str) -> None:
        """Show one tab (keys 1-3) and put the cursor in its table."""
        self.query_one("#setup-tabs", TabbedContent).active = f"tab-{name}"
        self.query_one(f"#setup-{name}", DataTable).focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        self.query_one(f"#setup-{self.tab}", DataTable).focus()

    def action_new(self) -> None:
        name = self.tab
        self.app.push_screen(RecordDialog(FORMS[name], self.lists.get("choices", {}), None),
                             callback=lambda res: self.saved(name, res))

    def action_edit(self) -> None:
        name = self.tab
        record = self.highlighted_row(self.lists.get(name, []), self.query_one(f"#setup-{name}", DataTable))
        if record is None:
            self.say(f"No {FORMS[name].what} to change here: n adds one.")
            return
        self.app.push_screen(RecordDialog(FORMS[name], self.lists["choices"], record),
                             callback=lambda res: self.saved(name, res))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def saved(self, name: str, res: dict | None) -> None:
        if not res:
            return
        form = FORMS[name]
        if res.get("created"):
            said = f"✔ Added {form.what} #{res[form.id_field]}: {form.named(res)}."
        elif res.get("changed"):
            said = f"✔ Changed {form.what} #{res[form.id_field]}: " + ", ".join(
                f.label.lower() for f in form.fields if f.name in res["changed"]) + "."
        else:
            said = f"Nothing changed on {form.what} #{res[form.id_field]}."
        self.say(said)
        self.saved_id = (name, res[form.id_field])
        self.reload()
