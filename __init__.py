"""claimdesk: the billing desk for the claims and money outside the normal workflow.

The public surface for plugin authors lives here::

    from claimdesk import hookimpl, Action, PaymentMethod, FeePolicy, WriteoffReason
"""

from claimdesk.core.plugins.records import (  # noqa: F401  (re-exported API)
    Action,
    FeePolicy,
    PaymentMethod,
    WriteoffReason,
)
from claimdesk.core.plugins.hookspecs import hookimpl  # noqa: F401

__version__ = "0.1.0"

