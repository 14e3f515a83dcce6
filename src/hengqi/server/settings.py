"""Settings of the platform server, validated once.

Values come from keyword arguments, then the environment (prefix ``HENGQI_``, e.g. ``HENGQI_DATABASE_URL``),
then an optional ``.env``-style file named by ``HENGQI_SETTINGS_FILE``.  Outside development the settings refuse
unsafe defaults: no configured session key, or cookies without the ``Secure`` flag.  There is no key in the code:
without ``HENGQI_SECRET_KEY`` a loopback server generates one in its data directory (:mod:`hengqi.server.keys`).

>>> s = Settings(data_dir="/tmp/hq")
>>> s.effective_database_url()
'sqlite:////tmp/hq/hengqi.sqlite3'
>>> load_settings(env="production", data_dir="/tmp/hq")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
hengqi.server.errors.UnsafeSettingsError: secret_key: a configured session key is required in production; ...
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hengqi.server.errors import UnsafeSettingsError

#: The shortest session key accepted (characters; a generated key has 64).
MIN_SECRET_KEY_LENGTH: Final = 32
#: The most server processes started when none is asked for (:func:`default_workers`).
DEFAULT_WORKERS_MAX: Final = 2


def default_workers() -> int:
    """Server processes when neither ``--workers`` nor ``HENGQI_WORKERS`` says: one per core this process may
    run on, at most :data:`DEFAULT_WORKERS_MAX`.

    One process runs Python on one core at a time (the interpreter lock), so on a machine of two cores one
    worker left the second mostly idle: with two, the token-authenticated item read on
    PostgreSQL went from 0.29 to 0.67-0.73 of the bare framework's requests per second and its p99 from 25 to 17 ms
    (``bench/bench_throughput.py --pg``, bench/README.md, issue 19).  At most two by default because each
    process holds its own PostgreSQL pools (up to 42 connections with the default sizes, docs/server.md) and the
    server's default ``max_connections`` is 100; more by ``--workers`` with the pools sized to fit.

    >>> 1 <= default_workers() <= DEFAULT_WORKERS_MAX
    True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, DEFAULT_WORKERS_MAX))


Environment = Literal["development", "test", "staging", "production"]


class Settings(BaseSettings):
    """Everything the server needs to start; one instance is passed to :func:`hengqi.server.app.create_app`."""

    model_config = SettingsConfigDict(
        env_prefix="HENGQI_",
        extra="forbid",
        frozen=True,
    )

    env: Environment = "development"
    data_dir: Path = Field(default=Path("data"), description="where the embedded database and stored files live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir")
    secret_key: SecretStr | None = Field(
        default=None, description="signs session cookies; default: a key generated in data_dir (loopback only)"
    )
    secret_key_previous: SecretStr | None = Field(
        default=None, description="the key before a rotation: still accepted for reading cookies"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    session_max_age_s: int = Field(default=8 * 3600, gt=0, le=30 * 24 * 3600, description="absolute timeout")
    session_idle_timeout_s: int = Field(default=30 * 60, gt=0, le=30 * 24 * 3600, description="idle timeout")
    cookie_secure: bool = False
    login_account_failures: int = Field(default=5, ge=1, le=1000, description="failures of one name before a lock")
    login_address_failures: int = Field(default=20, ge=1, le=100_000, description="failures of one address")
    login_window_s: int = Field(
        default=15 * 60, gt=0, le=24 * 3600, description="failures older than this are forgotten"
    )
    login_lockout_s: int = Field(default=60, gt=0, le=24 * 3600, description="first lock; doubles with each failure")
    login_lockout_max_s: int = Field(default=15 * 60, gt=0, le=24 * 3600, description="longest lock")
    login_workers: int = Field(default=2, ge=1, le=64, description="sign-ins handled at once (argon2 is costly)")
    login_queue: int = Field(default=64, ge=0, le=10_000, description="sign-ins waiting; more answer 429 at once")
    login_rate_per_s: float = Field(default=20.0, gt=0, le=10_000, description="sign-ins admitted per second")
    access_log: bool = Field(default=False, description="log method, path, status, duration and user id per request")
    forwarded_allow_ips: str | None = Field(
        default=None, description="proxies trusted for X-Forwarded-For/-Proto (comma-separated); none by default"
    )
    auto_migrate: bool = Field(default=True, description="upgrade the schema to the head revision on start")
    workers: int = Field(
        default_factory=default_workers,
        ge=1,
        le=64,
        description="server processes (hengqi serve --workers; default one per core, at most 2); the sign-in "
        "throttle counts for all of them",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="PostgreSQL: pooled connections per process (cover the requests served at once: a connection "
        "opened beyond the pool is closed when returned, and opening one costs the server a process)",
    )
    db_max_overflow: int = Field(
        default=10, ge=0, le=200, description="PostgreSQL: connections opened beyond the pool in a burst, per process"
    )
    db_read_pool_size: int = Field(
        default=8,
        ge=1,
        le=200,
        description="PostgreSQL: pooled autocommit connections per process for the short reads (token look-ups, "
        "item reads, list pages), apart from db_pool_size; up to 4 more are opened in a burst",
    )
    read_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="worker threads per process for the short token-authenticated reads on PostgreSQL (more for a "
        "database with a long network round trip; hengqi.server.read_threads)",
    )
    render_processes: int = Field(
        default=1,
        ge=0,
        le=16,
        description="processes per server process that render PDFs (certificates, statistics reports) away from "
        "the requests; 0 renders in the server process (hengqi.server.rendering)",
    )
    max_page_size: int = Field(default=1000, gt=0)
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="largest request body other than a file upload (413 above)"
    )
    max_json_depth: int = Field(default=32, ge=2, le=256, description="deepest nesting of a JSON request body")
    audit_key_file: Path | None = Field(
        default=None, description="Ed25519 key of the audit trail (PEM); default: audit-key.pem in data_dir, made 0600"
    )
    audit_checkpoint_file: Path | None = Field(
        default=None, description="append-only signed checkpoints; default: audit-checkpoints.jsonl in data_dir"
    )
    audit_checkpoint_every: int = Field(default=10, ge=1, description="sign a checkpoint after every N audit entries")
    instrument_workers: int = Field(
        default=8, ge=1, le=256, description="instrument operations (connection tests, readings) run at once"
    )
    instrument_per_user: int = Field(default=3, ge=1, le=64, description="instrument operations one user may have")
    instrument_rate_per_s: float = Field(
        default=3.0, gt=0, le=1000, allow_inf_nan=False, description="instrument operations a user starts a second"
    )

    compute: str = Field(
        default="embedded",
        description="where the province statistics run: embedded, dask://host:port or dask://local?workers=N",
    )
    province_dir: Path | None = Field(
        default=None, description="Parquet partitions of the province statistics; default: province/ in data_dir"
    )

    @field_validator("compute")
    @classmethod
    def _check_compute(cls, value: str) -> str:
        from hengqi.server.analytics.target import parse_compute_url

        parse_compute_url(value)  # InputError naming --compute
        return value

    @property
    def effective_province_dir(self) -> Path:
        """The Parquet partitions read by the province statistics."""
        return self.province_dir if self.province_dir is not None else self.data_dir / "province"

    public_url: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="the address the public reaches this server at (QR codes on certificates and labels); "
        "default: the address of the request that issues or prints",
    )
    verify_misses: int = Field(
        default=10, ge=1, le=100_000, description="public verification: unknown numbers one address may try"
    )
    verify_lockout_s: int = Field(
        default=60, gt=0, le=24 * 3600, description="public verification: first lock after the misses; doubles"
    )
    verify_max_upload_bytes: int = Field(
        default=20 * 1024 * 1024, gt=0, le=200 * 1024 * 1024, description="public verification: largest file checked"
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for reminder e-mails; none: no e-mail")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = Field(default=False, description="upgrade the SMTP connection with STARTTLS")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field(default="hengqi@localhost", max_length=200, description="the From address of reminders")
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=300, allow_inf_nan=False)
    reminder_days: int = Field(default=30, ge=0, le=3650, description="reminders: what falls due within N days")

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        for name, key in (("secret_key", self.secret_key), ("secret_key_previous", self.secret_key_previous)):
            if key is not None and len(key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
                raise UnsafeSettingsError(name, f"must have at least {MIN_SECRET_KEY_LENGTH} characters")
        if self.secret_key_previous is not None and self.secret_key is None:
            raise UnsafeSettingsError("secret_key_previous", "is only used together with secret_key")
        if self.env in ("production", "staging"):
            if self.secret_key is None:
                raise UnsafeSettingsError(
                    "secret_key",
                    f"a configured session key is required in {self.env}; "
                    f"set HENGQI_SECRET_KEY (at least {MIN_SECRET_KEY_LENGTH} random characters)",
                )
            if not self.cookie_secure:
                raise UnsafeSettingsError(
                    "cookie_secure", f"session cookies must be Secure in {self.env}; set HENGQI_COOKIE_SECURE=true"
                )
        url = self.effective_database_url()
        if not (url.startswith("sqlite") or url.startswith("postgresql")):
            raise UnsafeSettingsError("database_url", "only sqlite:// and postgresql+psycopg:// URLs are supported")
        return self

    def effective_database_url(self) -> str:
        """The database URL: the configured one, or the embedded SQLite file in :attr:`data_dir`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.resolve() / 'hengqi.sqlite3'}"

    @property
    def files_dir(self) -> Path:
        """The content-addressed store of files (certificates), under :attr:`data_dir`."""
        return self.data_dir / "files"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment with ``overrides`` (``None`` values are ignored).

    Pydantic validation errors become :class:`~hengqi.errors.InputError` naming the setting.
    """
    from pydantic import ValidationError

    from hengqi.errors import InputError

    values = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(_env_file=os.environ.get("HENGQI_SETTINGS_FILE"), **values)
    except ValidationError as err:
        first = err.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, InputError):
            raise cause from None
        path = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise InputError(f"settings.{path}", str(first.get("msg", "invalid"))) from err
