"""Use cases shared by the CLI and the app: each composes core services into what a clerk does,
returning typed results (dataclasses; amounts as :class:`~claimdesk.core.money.Cents`) that both
front ends format from the types."""
