"""After-action hook: a one-line record of each applied action on the ``claimdesk.events`` logger.

Log handlers (syslog, a file) are the clinic's to configure; by default nothing is printed.
"""

from __future__ import annotations

import logging

from claimdesk.api import hookimpl

CLAIMDESK_API = "1.0"

log = logging.getLogger("claimdesk.events")


@hookimpl
def claimdesk_action_applied(event):
    """Log who applied what to which encounter, and the audit event id."""
    log.info("%s applied %s encounter=%s patient=%s audit=%s entries=%s", event.user, event.action,
             event.encounter_id, event.patient_id, event.audit_id, list(event.entry_ids))
