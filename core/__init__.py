"""claimdesk core: models, ledger, services, plugin host; no screen code."""
