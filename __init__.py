"""claimdesk: the billing desk for the claims and money outside the normal workflow.

Plugin authors import only :mod:`claimdesk.api` (the public, versioned plugin API)::

    from claimdesk.api import Action, hookimpl
"""

__version__ = "0.1.0"

from claimdesk.core import deferred_regexes as _deferred_regexes

_deferred_regexes.install()  # marshmallow's e-mail patterns compiled on first use (see the module)
