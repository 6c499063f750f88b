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


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's (possibly nested) messages as ``{"full.dotted.path": [message, ...]}``.

    ``{"applications": {0: {"amount": ["bad"]}}}`` becomes ``{"applications.0.amount": ["bad"]}``;
    a ``_schema`` key inside a nested field stays on that field's path; order is kept
    (the first error first).
    """
    out: dict[str, list[str]] = {}

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                key = str(key)
                walk(sub, path if key == "_schema" and path else f"{path}.{key}" if path else key)
        elif isinstance(value, (list, tuple)):
            for sub in value:
                walk(sub, path)
        else:
            out.setdefault(path or "_schema", []).append(str(value))

    walk(messages, prefix)
    return out


class InputError(ClaimdeskError):
    """Bad input; ``messages`` is marshmallow-style ``{field: [message, ...]}`` (nested for
    nested schemas). ``field`` is the full dotted path of the first message
    (``applications.0.amount``); :meth:`flat` gives every message by its full path."""

    def __init__(self, messages: dict):
        self.messages = messages
        flat = flatten_messages(messages) if messages else {}
        if flat:
            field, msgs = next(iter(flat.items()))
            field = None if field == "_schema" else field
            first = msgs[0]
        else:
            field, first = None, "invalid input"
        super().__init__(first, field=field)

    def flat(self) -> dict[str, list[str]]:
        """Every message by its full dotted field path."""
        return flatten_messages(self.messages)

    def lines(self) -> list[str]:
        """Every message as ``field.path: message``."""
        return [f"{path}: {m}" if path != "_schema" else m
                for path, msgs in self.flat().items() for m in msgs]


class NotFound(ClaimdeskError):
    """An id that does not name an existing record."""


class Refused(ClaimdeskError):
    """A well-formed request the rules of money or the workflow do not allow."""


class PermissionDenied(ClaimdeskError):
    """The current user's role does not allow this workflow."""


class LedgerError(ClaimdeskError):
    """A journal entry that would break the ledger's rules (unbalanced, overdrawn...)."""


def _rename_path(path: str | None, mapping: dict[str, str]) -> str | None:
    if not path:
        return path
    head, dot, rest = path.partition(".")
    return mapping.get(head, head) + dot + rest


def renamed(exc: ClaimdeskError, mapping: dict[str, str]) -> ClaimdeskError:
    """``exc`` with its field names (the first part of each path) renamed by ``mapping``:
    a front end names its own inputs (``received_on`` -> ``date`` for a ``--date`` flag).
    ``exc`` itself when nothing is renamed."""
    if isinstance(exc, InputError) and type(exc) is InputError:
        if not any(str(k) in mapping for k in exc.messages):
            return exc
        return InputError({mapping.get(str(k), k): v for k, v in exc.messages.items()})
    new_field = _rename_path(exc.field, mapping)
    if new_field == exc.field or type(exc).__init__ is not ClaimdeskError.__init__:
        return exc
    return type(exc)(exc.message, field=new_field)


def with_note(exc: ClaimdeskError, note: str) -> ClaimdeskError:
    """A copy of ``exc`` (same class, same field) whose first message ends with ``note``."""
    if isinstance(exc, InputError) and type(exc) is InputError:
        flat = exc.flat() or {"_schema": ["invalid input"]}
        first = next(iter(flat))
        flat[first] = [f"{flat[first][0]}; {note}", *flat[first][1:]]
        return InputError(flat)
    if type(exc).__init__ is not ClaimdeskError.__init__:
        return ClaimdeskError(f"{exc}; {note}")
    return type(exc)(f"{exc.message}; {note}", field=exc.field)
