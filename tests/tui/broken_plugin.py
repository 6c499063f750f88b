"""A plugin whose action list raises: the app reports it and keeps running (Plugins screen).

Kept in its own small module so the error's file and line, which the screen shows, stay put.
"""

from __future__ import annotations

from claimdesk.api import hookimpl


class Broken:
    """Registered for one test, unregistered after."""

    @hookimpl
    def claimdesk_advanced_actions(self):
        raise RuntimeError("database of rules missing")
