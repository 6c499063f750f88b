"""The money engine: every rule that moves money, written once and set-based.

Each module is one concept; the services (credit entry, batch posting, EOB posting,
billing, adjustments, claims) and the demo's fast paths call these functions, a
single credit or charge being a list of one:

- :mod:`.allocation`   who auto-apply pays first (oldest first by date of service, then
                       charge, then split; partial on the last) and how much
- :mod:`.credits`      credits drawn from a voucher, applied to splits, remainders back
- :mod:`.charges`      charges with their first responsible split and one "charge" entry
- :mod:`.adjustments`  adjustments / write-offs (rows and one entry)
- :mod:`.transfers`    balance moved between the splits of a charge (and target splits made)
- :mod:`.eobs`         EOB posting for one or many EOBs of one payer check
- :mod:`.next_claims`  the next insurer's claim queued when a split reaches zero
- :mod:`.responsibility` who owes a new charge first, and where a balance moves on to
- :mod:`.bulk`         multi-row inserts with their ids, the dimension an entry names

Every write runs inside the caller's transaction (``core.workflow.run``) and
writes postings only through :func:`claimdesk.core.ledger.post`.
"""
