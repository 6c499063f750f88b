"""Settings: where the database is, who the user is, which plugins are off.

Precedence (first wins): command-line ``--db``/``--user``, environment
(``CLAIMDESK_DB``, ``CLAIMDESK_USER``, ``CLAIMDESK_CONFIG``), the config file
(TOML at ``<user config dir>/claimdesk/config.toml``), built-in defaults.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import tomllib
from pathlib import Path

import platformdirs

APP = "claimdesk"


@dataclasses.dataclass
class StatementRules:
    """Patient statement settings (see docs/statements.md)."""

    minimum_balance_cents: int = 500
    minimum_interval_days: int = 30
    final_notice_after: int = 3


@dataclasses.dataclass
class Settings:
    """Everything claimdesk reads from its environment, resolved once."""

    db_url: str
    user: str
    disabled_plugins: frozenset[str] = frozenset()
    aging_basis: str = "service"  # "service" | "last_activity"
    supervisor_writeoff_limit_cents: int = 500_00
    statements: StatementRules = dataclasses.field(default_factory=StatementRules)
    extra_writeoff_reasons: tuple[dict, ...] = ()
    config_path: Path | None = None


def default_db_path() -> Path:
    """The embedded SQLite file under the user data directory."""
    return Path(platformdirs.user_data_dir(APP)) / "claimdesk.db"


def config_path() -> Path:
    """The config file that applies (may not exist)."""
    env = os.environ.get("CLAIMDESK_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def os_user() -> str:
    """The operating-system user (as over SSH)."""
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no passwd entry
        return "unknown"


def load(db: str | None = None, user: str | None = None) -> Settings:
    """Resolve settings from arguments, environment and the config file."""
    path = config_path()
    data: dict = {}
    if path.exists():
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    url = db or os.environ.get("CLAIMDESK_DB") or data.get("db") or str(default_db_path())
    who = user or os.environ.get("CLAIMDESK_USER") or data.get("user") or os_user()
    plugins = data.get("plugins", {})
    stm = data.get("statements", {})
    return Settings(
        db_url=url,
        user=who,
        disabled_plugins=frozenset(plugins.get("disabled", [])),
        aging_basis=data.get("aging", {}).get("basis", "service"),
        supervisor_writeoff_limit_cents=int(
            data.get("writeoffs", {}).get("supervisor_limit_cents", 500_00)
        ),
        statements=StatementRules(**{k: int(v) for k, v in stm.items()}),
        extra_writeoff_reasons=tuple(data.get("writeoff_reasons", [])),
        config_path=path,
    )
