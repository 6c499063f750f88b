"""Reference data (a supervisor's): ``payer add|edit``, ``provider add|edit``, ``code add``."""

from __future__ import annotations

from claimdesk.core.cli.common import record_commands
from claimdesk.core.cli.output import money
from claimdesk.core.services import reference_data as ref


def register(subparsers) -> None:
    """Add payer, provider and code commands."""
    record_commands(subparsers, "payer", "Insurance payers (a supervisor's)", ref.PAYER,
                    lambda r: f"{r['name']} (payer id {r['payer_code']})")
    record_commands(subparsers, "provider", "Providers: rendering, referring, administrative (a supervisor's)",
                    ref.PROVIDER, lambda r: f"{r['name']} ({r['kind']}, {'NPI ' + r['npi'] if r['npi'] else 'no NPI'})")
    record_commands(subparsers, "code", "Service codes: CPT, HCPCS and office fee codes (a supervisor's)", ref.CODE,
                    lambda r: f"{r['code']} ({r['kind']}, {money(r['default_fee'])})", edit=False)
