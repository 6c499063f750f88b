"""claimdesk: the billing desk for the claims and money outside the normal workflow.

Plugin authors import only :mod:`claimdesk.api` (the public, versioned plugin API)::

    from claimdesk.api import Action, hookimpl
"""

__version__ = "0.1.0"
