"""The Textual app (``claimdesk`` with no arguments): keyboard first, legible at 80x24.

Keys: on Home, a Advanced Actions · c Credit entry · k Payer checks · l Patient ledger ·
z Outstanding Zero Splits · b Claim batches · g Aging · s Statements · d Daysheet ·
i Admin inbox · u Audit log · p Plugins · q Quit. Everywhere: Ctrl+P the command
palette (every workflow and every plugin action), Escape back, Ctrl+K cancel the
running task, F2 the screen's main step (Review & apply, Auto-Apply, Send...).
Screens call the core services only (``claimdesk.core.services``); what they show
comes from the read models ``views``, ``patient_views`` and ``payment_views`` there.
"""
