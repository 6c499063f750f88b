"""The errors core services raise; front ends show them as one clear line."""

from __future__ import annotations


class ClaimdeskError(Exception):
    """Base of every refusal a user can see. ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InputError(ClaimdeskError):
    """Bad input; ``messages`` is marshmallow-style ``{field: [message, ...]}``."""

    def __init__(self, messages: dict):
        self.messages = messages
        field, msgs = next(iter(messages.items())) if messages else (None, ["invalid input"])
        first = msgs[0] if isinstance(msgs, list) and msgs else msgs
        if isinstance(first, dict):  # nested schema
            sub_field, sub = next(iter(first.items()))
            field = f"{field}.{sub_field}"
            first = sub[0] if isinstance(sub, list) else sub
        super().__init__(str(first), field=field)

    def lines(self) -> list[str]:
        """Every message as ``field: message``."""
        out = []

        def walk(prefix, value):
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
            elif isinstance(value, list):
                for v in value:
                    walk(prefix, v)
            else:
                out.append(f"{prefix}: {value}" if prefix else str(value))

        walk("", self.messages)
        return out


class NotFound(ClaimdeskError):
    """An id that does not name an existing record."""


class Refused(ClaimdeskError):
    """A well-formed request the rules of money or the workflow do not allow."""


class PermissionDenied(ClaimdeskError):
    """The current user's role does not allow this workflow."""


class LedgerError(ClaimdeskError):
    """A journal entry that would break the ledger's rules (unbalanced, overdrawn...)."""
