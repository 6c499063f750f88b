"""What the two file-import screens share (Import 837, Post ERA): the path field and how it is
read (:func:`split_paths`: spaces or commas, quotes, ``~`` and patterns), the layout (the field,
its refusals, a summary, a table, the highlighted row's detail, a progress bar) and where
refusals are shown. A screen names its ``PREFIX`` (widget ids ``<prefix>-files``...),
``PLACEHOLDER`` and ``HINT``."""

from __future__ import annotations

import glob
import os
import shlex

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, Static

from claimdesk.tui.screens.base import BaseScreen
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.progress import KeepWhileRunning, WorkProgress
from claimdesk.tui.widgets.table import Table

#: Unreadable files named one by one under the field before "(and N more)".
SHOWN_ERRORS = 3
#: The label of the path field, as refusals name it.
FIELD = "Files"


class PathsRefused(ValueError):
    """The field cannot be read as paths (an open quote, nothing typed)."""


# --- the field ---------------------------------------------------------------------------------------
def split_paths(text: str, what: str = "files") -> list[str]:
    """The paths typed in the field: separated by spaces or commas, a path with spaces in quotes;
    ``~`` expanded, a pattern (``*.837``) replaced by the files it matches, sorted (a pattern
    that matches nothing stays as typed, so its refusal names it); nothing typed is refused
    asking for the path of one or more ``what``."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace = " ,\t\r\n"
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError as exc:  # "No closing quotation"
        raise PathsRefused(f"{exc}: close the quote around a path with spaces") from None
    if not tokens:
        raise PathsRefused(f"type the path of one or more {what}")
    paths: list[str] = []
    for token in tokens:
        path = os.path.expanduser(token)
        matched = sorted(glob.glob(path)) if glob.has_magic(path) else []
        paths += matched or [path]
    return paths


class FileImportScreen(KeepWhileRunning, BaseScreen):
    """The layout and the refusals of a file-import screen (see the module)."""

    PREFIX = ""
    PLACEHOLDER = ""
    HINT = ""
    WHAT = "files"  # "type the path of one or more <WHAT>"
    READING = "Reading"  # "<READING> 2 file(s)… (nothing is written)"
    BUSY = "The work is still running: wait for its result."
    LOADER = None  # (paths) -> the preview's info, run in a worker (a staticmethod)

    def _ident(self, what: str) -> str:
        return f"{self.PREFIX}-{what}"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="line"):
            yield Label(FIELD, classes=self._ident("label"))
            yield Input(placeholder=self.PLACEHOLDER, id=self._ident("files"), compact=True)
        yield ErrorLine(id=self._ident("files-error"))
        with VerticalScroll(id=self._ident("summary-box"), can_focus=False):
            yield Static(self.HINT, id=self._ident("summary"), classes="facts")
        yield ErrorLine(id=self._ident("error"))
        yield Table(id=self._ident("table"), cursor_type="row")
        yield Static("", id=self._ident("detail"))
        yield WorkProgress(id=self._ident("progress"))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(f"#{self._ident('files')}", Input).focus()

    def clear_errors(self) -> None:
        for what in ("files-error", "error"):
            self.query_one(f"#{self._ident(what)}", ErrorLine).show("")

    def field_error(self, messages: list[str]) -> None:
        """Refusals of the field, each led by its label ("Files: cannot read ...")."""
        more = f"\n! {FIELD}: (and {len(messages) - SHOWN_ERRORS} more files not read)" \
            if len(messages) > SHOWN_ERRORS else ""
        self.query_one(f"#{self._ident('files-error')}", ErrorLine).show(
            "\n! ".join(f"{FIELD}: {m}" for m in messages[:SHOWN_ERRORS]) + more)

    def general_error(self, message: str) -> None:
        self.query_one(f"#{self._ident('error')}", ErrorLine).show(message)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_preview()

    def running(self) -> bool:
        """Work that writes is under way (a preview then waits)."""
        return False

    def action_preview(self, then=None) -> None:
        """Read the paths typed and preview the files in a worker (nothing written); ``then``
        runs after the preview is shown."""
        if self.running():
            self.notify(self.BUSY, timeout=5)
            return
        self.clear_errors()
        field = self.query_one(f"#{self._ident('files')}", Input)
        try:
            paths = split_paths(field.value, self.WHAT)
        except PathsRefused as exc:
            self.field_error([str(exc)])
            field.focus()
            return
        self.preview = None
        self.query_one(f"#{self._ident('summary')}", Static).update(
            Text(f"{self.READING} {len(paths)} file(s)… (nothing is written)", style="dim"))
        self.call(type(self).LOADER, paths, done=lambda info: self.show_preview(info, then),
                  failed=self.preview_failed, group="preview", exclusive=True)


def read_sources(paths: list[str]) -> list:
    """Each path read (at most the X12 size limit) as ``(path, bytes)``, kept for the post so what
    is confirmed is what is written; a path that cannot be read stays a path, for the core to say
    why (:func:`claimdesk.core.services.claim_import.read_source`)."""
    from claimdesk.core.services.claim_import import read_source

    out: list = []
    for path in paths:
        name, data, why = read_source(path)
        out.append(path if why else (name, data))
    return out
