"""Settings: where the database is, who the user is, which plugins are off.

Precedence (first wins): command-line ``--db``/``--user``, environment
(``CLAIMDESK_DB``, ``CLAIMDESK_USER``, ``CLAIMDESK_CONFIG``), the config file
(TOML at ``<user config dir>/claimdesk/config.toml``), built-in defaults.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

# platformdirs, tomllib and getpass are imported where they are used (the default
# paths, a config file that exists, no user given), not by every start.

APP = "claimdesk"


#: Default dunning messages: (minimum age in days of the oldest patient balance, message).
DEFAULT_DUNNING = (
    (0, "Thank you for your visit. Please pay the amount due by the next statement date."),
    (31, "Your balance is past due. Please send your payment today."),
    (61, "Your balance is more than 60 days past due. Please pay now or call us to arrange a plan."),
    (91, "Your balance is seriously past due. Please call our billing office right away."),
)
DEFAULT_FINAL_NOTICE = "FINAL NOTICE: please pay or call us to arrange a payment plan."


@dataclasses.dataclass
class StatementRules:
    """Patient statement settings (see docs/aging-and-statements.md)."""

    minimum_balance_cents: int = 500
    minimum_interval_days: int = 30
    final_notice_after: int = 3
    dunning: tuple[tuple[int, str], ...] = DEFAULT_DUNNING
    final_notice_message: str = DEFAULT_FINAL_NOTICE

    def dunning_message(self, age_days: int) -> str:
        """The message for a balance whose oldest part is ``age_days`` old."""
        text = ""
        for min_age, message in sorted(self.dunning):
            if age_days >= min_age:
                text = message
        return text


def statement_rules(table: dict) -> StatementRules:
    """StatementRules from the ``[statements]`` config table (``[[statements.dunning]]`` rows)."""
    ints = {k: int(table[k]) for k in ("minimum_balance_cents", "minimum_interval_days", "final_notice_after")
            if k in table}
    extra: dict = {}
    if "dunning" in table:
        extra["dunning"] = tuple((int(row["min_age_days"]), str(row["message"])) for row in table["dunning"])
    if "final_notice_message" in table:
        extra["final_notice_message"] = str(table["final_notice_message"])
    return StatementRules(**ints, **extra)


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
    export_dir: Path | None = None  # claim batch exports and statement PDFs (default: data dir/exports)
    clinic_name: str = ""  # printed at the top of patient statements ([clinic] name)
    clinic_address: str = ""  # [clinic] address, one line
    clinic_phone: str = ""  # [clinic] phone


def default_export_dir() -> Path:
    """Where claim batch exports and rendered statements go by default."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP)) / "exports"


def default_db_path() -> Path:
    """The embedded SQLite file under the user data directory."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP)) / "claimdesk.db"


def config_path() -> Path:
    """The config file that applies (may not exist)."""
    env = os.environ.get("CLAIMDESK_CONFIG")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def os_user() -> str:
    """The operating-system user (as over SSH)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no passwd entry
        return "unknown"


def load(db: str | None = None, user: str | None = None) -> Settings:
    """Resolve settings from arguments, environment and the config file."""
    path = config_path()
    data: dict = {}
    if path.exists():
        import tomllib

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
        statements=statement_rules(stm),
        extra_writeoff_reasons=tuple(data.get("writeoff_reasons", [])),
        config_path=path,
        export_dir=Path(os.environ.get("CLAIMDESK_EXPORT_DIR") or data.get("exports", {}).get("dir")
                        or default_export_dir()).expanduser(),
        clinic_name=str(data.get("clinic", {}).get("name", "")),
        clinic_address=str(data.get("clinic", {}).get("address", "")),
        clinic_phone=str(data.get("clinic", {}).get("phone", "")),
    )
