"""The Textual app (``claimdesk`` with no arguments): keyboard first, legible at 80x24.

Keys: on Home, a Advanced Actions · c Credit entry · k Payer checks · l Patient ledger ·
z Outstanding Zero Splits · b Claim batches · g Aging · s Statements · d Daysheet ·
i Admin inbox · u Audit log · p Plugins · q Quit. Everywhere: Ctrl+P the command
palette (every workflow and every plugin action), Escape back, Ctrl+K cancel the
running task, F2 the screen's main step (Review & apply, Auto-Apply, Send...).
Screens call the core services only (``claimdesk.core.services``); what they show
comes from the read models ``views``, ``patient_views`` and ``payment_views`` there.
"""

import gc as _gc

_held = False


def hold_gc_until_first_screen() -> None:
    """Switch the cyclic garbage collector off for the start (call before importing the app).

    Starting allocates mostly objects that live as long as the process (modules, classes,
    plugin records, widgets): collections during the start walk them over and over (20-30 ms
    of a half-second start). The app hands them to the permanent generation and switches the
    collector back on once Home is up (:func:`release_gc`)."""
    global _held
    if _gc.isenabled():
        _gc.disable()
        _held = True


def release_gc() -> None:
    """Freeze what the start made out of the collector's way and switch it on again, if
    :func:`hold_gc_until_first_screen` switched it off (a no-op otherwise, and the second time)."""
    global _held
    _gc.freeze()
    if _held:
        _held = False
        _gc.enable()
