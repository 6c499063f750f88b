"""marshmallow's e-mail patterns compiled when first used, not at every start.

``marshmallow.validate`` compiles the two patterns of its ``Email`` validator when it is
imported: ranges of every Unicode letter, case-insensitive, which Python's ``re`` takes
25-35 ms to compile. That was the largest single piece of the app's cold start after
Textual's own, paid on every start (the CLI's too) for a validator claimdesk never uses.

:func:`install` (run when ``claimdesk`` is imported) puts a one-shot finder on
``sys.meta_path``. When ``marshmallow.validate`` is imported, by anyone, the finder hands
it a loader that runs the module with ``re.compile`` answering that module's own calls
with a :class:`DeferredPattern`, which compiles on its first use; every other caller's
``re.compile`` goes through untouched, and ``re.compile`` is restored as soon as the module
has run. Nothing changes when marshmallow was imported before claimdesk.
"""

from __future__ import annotations

import re
import sys
from importlib.machinery import PathFinder

#: The module whose own import-time patterns are deferred.
MODULE = "marshmallow.validate"


class DeferredPattern:
    """A compiled pattern made on first use: any attribute (``match``, ``pattern``...) is
    the compiled pattern's. Special names are not asked of it (the ``abc`` machinery probes
    every class attribute for ``__isabstractmethod__`` when the class is made)."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern, flags=0):
        self._args = (pattern, flags)
        self._compiled = None

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = _COMPILE(*self._args)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"DeferredPattern({self._args[0]!r}, {self._args[1]!r})"


_COMPILE = re.compile


def _compile_deferring_module_patterns(pattern, flags=0):
    """``re.compile``, except for calls made by :data:`MODULE`'s own code."""
    if sys._getframe(1).f_globals.get("__name__") == MODULE:
        return DeferredPattern(pattern, flags)
    return _COMPILE(pattern, flags)


class _Loader:
    """The module's own loader, running it with its patterns deferred."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):  # get_source, get_code...: the module's own loader's
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        re.compile = _compile_deferring_module_patterns
        try:
            self._loader.exec_module(module)
        finally:
            re.compile = _COMPILE


class _Finder:
    """Finds :data:`MODULE` as the path finder does, with :class:`_Loader`; once."""

    def find_spec(self, name, path=None, target=None):
        if name != MODULE:
            return None
        sys.meta_path.remove(self)
        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Defer :data:`MODULE`'s import-time patterns (nothing to do once it is imported)."""
    if MODULE in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
