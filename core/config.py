"""Settings: where the database is, which plugins are off, the clinic's rules.

Precedence (first wins): command-line ``--db``, environment (``CLAIMDESK_DB``,
``CLAIMDESK_CONFIG``), the config file (TOML at ``<user config dir>/claimdesk/config.toml``),
built-in defaults. The default config file is optional; a ``CLAIMDESK_CONFIG`` naming no file
(or empty) is refused, naming the variable and the path (:func:`config_path`).

Who is working is never a setting: it is the authenticated identity of the process, the OS
login of its user id (as over SSH) on SQLite, the connection's role (``session_user``) on
PostgreSQL (:func:`claimdesk.core.session.start`). No flag, environment variable or config
entry changes it; only a program embedding claimdesk in-process (its tests) passes ``user``
to :func:`load`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from claimdesk.core.errors import InputError

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
    #: the due date printed on a statement (and its payment coupon): statement date + this
    payment_due_days: int = 30
    dunning: tuple[tuple[int, str], ...] = DEFAULT_DUNNING
    final_notice_message: str = DEFAULT_FINAL_NOTICE

    def dunning_message(self, age_days: int) -> str:
        """The message for a balance whose oldest part is ``age_days`` old."""
        text = ""
        for min_age, message in sorted(self.dunning):
            if age_days >= min_age:
                text = message
        return text


class ConfigError(InputError):
    """The config file cannot be read or holds a value of the wrong kind. The message names
    the file and the key (``[plugins] disabled``) or the line of a syntax error."""

    def __init__(self, path: Path | None, key: str, message: str):
        super().__init__({key: [message]})
        self.path = path
        self.key = key

    def __str__(self) -> str:
        where = f"config file {self.path}" if self.path else "config"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


def _key_name(key: str) -> str:
    """``"plugins.disabled"`` -> ``"[plugins] disabled"`` (as the TOML file spells it)."""
    table, _, name = key.rpartition(".")
    return f"[{table}] {name}" if table else name


def _kind(value) -> str:
    return {str: "a string", int: "a number", float: "a number", bool: "true/false", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


class _Reader:
    """Typed reads from the parsed TOML, each refusal naming the file and the key."""

    def __init__(self, data: dict, path: Path | None):
        self.data, self.path = data, path

    def fail(self, key: str, message: str):
        raise ConfigError(self.path, _key_name(key), message)

    def get(self, key: str, default=None):
        node = self.data
        parts = key.split(".")
        for i, part in enumerate(parts):
            if not isinstance(node, dict):
                self.fail(".".join(parts[:i]), f"must be a table ([{'.'.join(parts[:i])}]), got {_kind(node)}")
            if part not in node:
                return default
            node = node[part]
        return node

    def table(self, key: str) -> dict:
        value = self.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(self.path, f"[{key}]", f"must be a table, got {_kind(value)}")
        return value

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.get(key, default)
        if value is not None and not isinstance(value, str):
            self.fail(key, f"must be a string in quotes, got {_kind(value)} {value!r}")
        return value

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, got {_kind(value)} {value!r}")
        if value < minimum:
            self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false (no quotes), got {_kind(value)} {value!r}")
        return value

    def text_list(self, key: str, example: str) -> list[str]:
        value = self.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            got = f"{_kind(value)} {value!r}" if not isinstance(value, list) else "a list with a non-string item"
            self.fail(key, f"must be a list of names like {example}, got {got}")
        return value

    def rows(self, key: str) -> list[dict]:
        value = self.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, f"must be rows written [[{key}]], got {_kind(value)}")
        return value


def _statement_rules(cfg: _Reader) -> StatementRules:
    ints = {k: cfg.integer(f"statements.{k}", getattr(StatementRules, k))
            for k in ("minimum_balance_cents", "minimum_interval_days", "final_notice_after", "payment_due_days")}
    extra: dict = {}
    if cfg.get("statements.dunning") is not None:
        dunning = []
        for i, row in enumerate(cfg.rows("statements.dunning")):
            one = _Reader(row, cfg.path)
            age = one.get("min_age_days")
            if isinstance(age, bool) or not isinstance(age, int) or age < 0:
                raise ConfigError(cfg.path, f"[[statements.dunning]] row {i + 1} min_age_days",
                                  f"must be a whole number of days, got {age!r}")
            message = one.get("message")
            if not isinstance(message, str):
                raise ConfigError(cfg.path, f"[[statements.dunning]] row {i + 1} message",
                                  f"must be a string in quotes, got {message!r}")
            dunning.append((age, message))
        extra["dunning"] = tuple(dunning)
    message = cfg.text("statements.final_notice_message")
    if message is not None:
        extra["final_notice_message"] = message
    return StatementRules(**ints, **extra)


def statement_rules(table: dict) -> StatementRules:
    """StatementRules from the ``[statements]`` config table (``[[statements.dunning]]`` rows)."""
    return _statement_rules(_Reader({"statements": table}, None))


@dataclasses.dataclass(frozen=True)
class Clinic:
    """The clinic itself, as the billing provider on its claims (the ``[clinic]`` config section).

    ``name`` and ``address``/``phone`` also head patient statements. Every value is optional
    (a clinic that sends no claims needs none); a value given is checked by the rule of
    :mod:`claimdesk.core.claim_rules` for it (NPI check digit, tax id, taxonomy, state, ZIP).
    """

    name: str = ""
    npi: str = ""
    tax_id: str = ""
    taxonomy: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    phone: str = ""


@dataclasses.dataclass(frozen=True)
class Edi:
    """Who the clinic's 837P files go from and to (the ``[edi]`` config section), each optional:
    ``submitter_id``/``submitter_name`` (loop 1000A and ISA06; default the clinic's tax id and
    name), ``contact`` (the submitter's PER contact name; default "BILLING OFFICE"),
    ``receiver_id``/``receiver_name`` (loop 1000B and ISA08: the clearinghouse; default each
    batch's payer, by its payer id) and ``usage`` (ISA15: ``P`` production, the default, or ``T`` test);
    and of the files coming in, ``accept_test_files``: an 837P or 835 the sender marked as test data
    (ISA15 ``T``) is imported only when it is true (a training or test copy of the database)."""

    submitter_id: str = ""
    submitter_name: str = ""
    contact: str = ""
    receiver_id: str = ""
    receiver_name: str = ""
    usage: str = "P"
    accept_test_files: bool = False


def _edi(cfg: "_Reader") -> Edi:
    """The ``[edi]`` section (a refusal names ``[edi] key``)."""
    values = {f.name: cfg.text(f"edi.{f.name}", f.default).strip() for f in dataclasses.fields(Edi)
              if f.type == "str"}
    values["accept_test_files"] = cfg.flag("edi.accept_test_files")
    if values["usage"] not in ("P", "T"):
        cfg.fail("edi.usage", f"must be \"P\" (production) or \"T\" (test), got {values['usage']!r}")
    for key in ("submitter_id", "receiver_id"):
        if len(values[key]) > 15:
            cfg.fail(f"edi.{key}", f"is at most 15 characters (the ISA field), got {values[key]!r}")
    return Edi(**values)


def _reason_codes_file(cfg: "_Reader") -> Path | None:
    """``[era] reason_codes``: the clinic's CSV of CARC/RARC labels (relative to the config file's
    folder), read and checked now so a bad file is refused at start naming the key and the line."""
    text = cfg.text("era.reason_codes")
    if text is None:
        return None
    if not text.strip():
        cfg.fail("era.reason_codes", "must name a CSV file of kind,code,label rows, got an empty string")
    path = Path(text.strip()).expanduser()
    if not path.is_absolute() and cfg.path is not None:
        path = cfg.path.parent / path
    from claimdesk.core.services.reason_codes import read_clinic_codes

    read_clinic_codes(path, cfg.path)
    return path


def _clinic_rules() -> dict:
    from claimdesk.core import claim_rules

    return {"npi": claim_rules.check_npi, "tax_id": claim_rules.check_tax_id,
            "taxonomy": claim_rules.check_taxonomy, "state": claim_rules.check_state,
            "zip": claim_rules.check_zip}


def _clinic(cfg: "_Reader") -> Clinic:
    """The ``[clinic]`` section, each value checked (a refusal names ``[clinic] key``)."""
    values = {}
    rules = _clinic_rules()
    for f in dataclasses.fields(Clinic):
        text = cfg.text(f"clinic.{f.name}", "").strip()
        if text and f.name in rules:
            try:
                text = rules[f.name](text)
            except ValueError as exc:
                cfg.fail(f"clinic.{f.name}", str(exc))
        values[f.name] = text
    return Clinic(**values)


def clinic_section(clinic: Clinic) -> str:
    """The ``[clinic]`` section of a config file holding ``clinic`` (TOML text)."""
    import json

    return "[clinic]\n" + "".join(f"{f.name} = {json.dumps(getattr(clinic, f.name))}\n"
                                  for f in dataclasses.fields(Clinic) if getattr(clinic, f.name))


@dataclasses.dataclass
class Settings:
    """Everything claimdesk reads from its environment, resolved once."""

    db_url: str
    user: str  # the OS login here; on PostgreSQL session.start puts the connection's role
    user_given: bool = False  # passed in-process (tests), kept on PostgreSQL too
    disabled_plugins: frozenset[str] = frozenset()
    aging_basis: str = "service"  # "service" | "last_activity"
    supervisor_writeoff_limit_cents: int = 500_00
    statements: StatementRules = dataclasses.field(default_factory=StatementRules)
    extra_writeoff_reasons: tuple[dict, ...] = ()
    reason_codes_file: Path | None = None  # [era] reason_codes: the clinic's CARC/RARC labels (kind,code,label)
    extra_denial_routes: tuple[dict, ...] = ()  # [[era.routes]]: denial code -> work queue
    config_path: Path | None = None
    export_dir: Path | None = None  # claim batch exports and statement PDFs (default: data dir/exports)
    clinic: Clinic = Clinic()  # [clinic]: the billing provider; name, address and phone head statements
    edi: Edi = Edi()  # [edi]: submitter and receiver of the clinic's 837P files
    lock_minutes: int = 10  # [app] lock_minutes: idle this long, the app hides everything behind a lock (0: never)
    exit_minutes: int = 10  # [app] exit_minutes: locked this long, the app closes (0: never)


def default_export_dir() -> Path:
    """Where claim batch exports and rendered statements go by default."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP)) / "exports"


def default_db_path() -> Path:
    """The embedded SQLite file under the user data directory."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP)) / "claimdesk.db"


def default_config_path() -> Path:
    """The config file read when ``CLAIMDESK_CONFIG`` is not set (it may not exist)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def config_path() -> Path:
    """The config file that applies: ``CLAIMDESK_CONFIG``, else :func:`default_config_path` (which
    may not exist). A ``CLAIMDESK_CONFIG`` that is empty or names no file is refused
    (:class:`ConfigError` naming the variable and the path): the settings a clinic meant to give
    (its database, its rules) are never silently replaced by the defaults."""
    env = os.environ.get("CLAIMDESK_CONFIG")
    if env is None:
        return default_config_path()
    if not env.strip():
        raise ConfigError(None, "CLAIMDESK_CONFIG", "is empty: name the config file, or unset CLAIMDESK_CONFIG "
                                                    f"to use the default ({default_config_path()})")
    path = Path(env).expanduser()
    try:
        missing = not path.exists()
    except OSError:  # a folder on the way this user may not enter: read_config_file says so
        missing = False
    if missing:
        raise ConfigError(path, "CLAIMDESK_CONFIG", "names a file that does not exist; create it (it may be "
                                                    "empty) or unset CLAIMDESK_CONFIG to use the default "
                                                    f"({default_config_path()})")
    return path


def os_user() -> str:
    """The login name of this process's user id (as over SSH): from the password database, never
    from ``USER``/``LOGNAME``, which anyone can set."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # pragma: no cover - no passwd entry (or not POSIX)
        import getpass

        return getpass.getuser() if os.name == "nt" else f"uid-{os.getuid()}"


AGING_BASES = ("service", "last_activity")


def read_config_file(path: Path) -> dict:
    """The parsed TOML of ``path`` ({} when it does not exist); :class:`ConfigError` naming the
    file (and the line of a syntax error) when it cannot be read or parsed."""
    try:
        if not path.exists():
            return {}
    except OSError as exc:  # a folder on the way this user may not enter
        raise ConfigError(path, "", f"cannot be read: {exc.strerror or exc}") from None
    import re
    import tomllib

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", text)
        what = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", text)
        where = f"line {m.group(1)} column {m.group(2)}" if m else (
            "end of file" if "end of document" in text else "")
        raise ConfigError(path, "", f"not valid TOML: {what}" + (f" ({where})" if where else "")) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "", f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot be read: {exc.strerror or exc}") from None


def load(db: str | None = None, user: str | None = None) -> Settings:
    """Resolve settings from arguments, environment and the config file.

    A config file that cannot be parsed, or a key holding the wrong kind of value, raises
    :class:`ConfigError` naming the file and the key (or the line)."""
    path = config_path()
    cfg = _Reader(read_config_file(path), path)
    for table in ("plugins", "statements", "aging", "writeoffs", "exports", "clinic", "era", "edi", "app"):
        cfg.table(table)
    url = next((v for v in (db, os.environ.get("CLAIMDESK_DB"), cfg.text("db")) if v is not None), None)
    if url is not None and not url.strip():  # given, but empty: never the default database in its place
        empty = "is empty: give a SQLite file or a postgresql:// URL"
        if db is not None:
            raise InputError({"db": [f"--db {empty}"]})
        if os.environ.get("CLAIMDESK_DB") is not None:
            raise InputError({"db": [f"CLAIMDESK_DB {empty}"]})
        cfg.fail("db", empty)
    url = url or str(default_db_path())
    if cfg.get("user") is not None:
        cfg.fail("user", "cannot choose who is working: claimdesk records your login (remove this line)")
    who = user or os_user()
    basis = cfg.text("aging.basis", "service")
    if basis not in AGING_BASES:
        cfg.fail("aging.basis", f"must be one of {', '.join(map(repr, AGING_BASES))}, got {basis!r}")
    export_dir = os.environ.get("CLAIMDESK_EXPORT_DIR") or cfg.text("exports.dir")
    return Settings(
        db_url=url,
        user=who,
        user_given=user is not None,
        disabled_plugins=frozenset(cfg.text_list("plugins.disabled", '["pay_card"]')),
        aging_basis=basis,
        supervisor_writeoff_limit_cents=cfg.integer("writeoffs.supervisor_limit_cents", 500_00),
        statements=_statement_rules(cfg),
        extra_writeoff_reasons=tuple(cfg.rows("writeoff_reasons")),
        reason_codes_file=_reason_codes_file(cfg),
        extra_denial_routes=tuple(cfg.rows("era.routes")),
        config_path=path,
        export_dir=Path(export_dir or default_export_dir()).expanduser(),
        clinic=_clinic(cfg),
        edi=_edi(cfg),
        lock_minutes=cfg.integer("app.lock_minutes", 10),
        exit_minutes=cfg.integer("app.exit_minutes", 10),
    )
