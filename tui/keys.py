"""The function keys: one meaning each, on every screen.

A clerk learns a key once. Every screen binds its function keys through the helpers
below, never with a bare ``Binding("f…")`` (a test holds every screen to it), so F5 never
posts on one screen and reloads on the next. The label in the footer says what the key
does *here* ("Auto-apply", "Post batch"); the meaning is the same everywhere:

=====  ==========================================================================
Key    Meaning
=====  ==========================================================================
Esc    back / cancel: leave this screen or dialog, nothing written
F2     do it: the screen's main step (save, post, apply oldest first, import,
       return the check, close the day); money moves only after a confirmation
F3     apply to the ticked rows: the manual way, instead of oldest first
F4     new: a new record or line of what this screen enters
F5     look again: reload, or preview what F2 would do; never writes
F6     find: go to the search or ID field
F7     open the related list (skipped patients, exceptions, unapplied money…)
F8     details: a sub-form of the record in view (coverage, diagnoses)
F9     run for every patient (the statement run, the aging recalculation)
=====  ==========================================================================

Each binding's ``id`` is ``claimdesk.<meaning>``, so a clinic's Textual keymap can move
one meaning to another key on every screen at once.
"""

from __future__ import annotations

from textual.binding import Binding

#: key -> (meaning, what it does), in the order shown in docs and help.
MEANINGS: dict[str, tuple[str, str]] = {
    "f2": ("do", "do it: the screen's main step, after a confirmation"),
    "f3": ("ticked", "apply to the ticked rows (the manual way)"),
    "f4": ("new", "new record or line"),
    "f5": ("look", "look again: reload or preview; never writes"),
    "f6": ("find", "find: go to the search or ID field"),
    "f7": ("related", "open the related list"),
    "f8": ("details", "details: a sub-form of the record in view"),
    "f9": ("run", "run for every patient"),
}
KEY_OF = {meaning: key for key, (meaning, _) in MEANINGS.items()}


def _bind(meaning: str, action: str, label: str, **kw) -> Binding:
    return Binding(KEY_OF[meaning], action, label, id=f"claimdesk.{meaning}", **kw)


def do_it(action: str, label: str, **kw) -> Binding:
    """F2: the screen's main step (save, post, apply, import)."""
    return _bind("do", action, label, **kw)


def apply_ticked(action: str, label: str = "Apply to ticked", **kw) -> Binding:
    """F3: apply to the rows the clerk ticked, instead of oldest first."""
    return _bind("ticked", action, label, **kw)


def new(action: str, label: str = "New", **kw) -> Binding:
    """F4: start a new record or line."""
    return _bind("new", action, label, **kw)


def look_again(action: str, label: str = "Reload", **kw) -> Binding:
    """F5: reload what is shown, or preview what F2 would do; never writes."""
    return _bind("look", action, label, **kw)


def find(action: str, label: str = "Find", **kw) -> Binding:
    """F6: go to the screen's search or ID field."""
    return _bind("find", action, label, **kw)


def related(action: str, label: str, **kw) -> Binding:
    """F7: open the list related to what is shown."""
    return _bind("related", action, label, **kw)


def details(action: str, label: str, **kw) -> Binding:
    """F8: a sub-form of the record in view."""
    return _bind("details", action, label, **kw)


def run_all(action: str, label: str, **kw) -> Binding:
    """F9: a run over every patient."""
    return _bind("run", action, label, **kw)


def footer_order(binding) -> int:
    """Where a binding goes in the footer: Esc first, then the screen's letters as written,
    then the function keys in number order (F2 before F5 on every screen)."""
    key = binding[0] if isinstance(binding, tuple) else binding.key
    if key == "escape":
        return 0
    if key.startswith("f") and key[1:].isdigit():
        return 100 + int(key[1:])
    return 1


class InFooterOrder:
    """Mixin for screens: their ``BINDINGS`` in :func:`footer_order` (a stable sort), so the
    footer reads the same way on every screen whatever order a screen lists its keys in."""

    def __init_subclass__(cls, **kwargs):
        if "BINDINGS" in cls.__dict__:
            cls.BINDINGS = sorted(cls.__dict__["BINDINGS"], key=footer_order)
        super().__init_subclass__(**kwargs)
