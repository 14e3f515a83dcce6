"""Settings of the platform server, validated once.

Values come from keyword arguments, then the environment (prefix ``HENGQI_``, e.g. ``HENGQI_DATABASE_URL``),
then an optional ``.env``-style file named by ``HENGQI_SETTINGS_FILE``.  Outside development the settings refuse
unsafe defaults: the built-in secret key, or cookies without the ``Secure`` flag.

>>> s = Settings(data_dir="/tmp/hq")
>>> s.effective_database_url()
'sqlite:////tmp/hq/hengqi.sqlite3'
>>> load_settings(env="production", data_dir="/tmp/hq")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
hengqi.server.errors.UnsafeSettingsError: secret_key: the built-in development secret key may not be used ...
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hengqi.server.errors import UnsafeSettingsError

#: The development secret key: never accepted when ``env`` is ``production`` or ``staging``.
DEVELOPMENT_SECRET_KEY: Final = "hengqi-development-secret-key-do-not-use-in-production"

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
    secret_key: str = DEVELOPMENT_SECRET_KEY
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    session_max_age_s: int = Field(default=8 * 3600, gt=0)
    cookie_secure: bool = False
    auto_migrate: bool = Field(default=True, description="upgrade the schema to the head revision on start")
    max_page_size: int = Field(default=1000, gt=0)
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    instrument_workers: int = Field(
        default=8, ge=1, le=256, description="instrument operations (connection tests, readings) run at once"
    )
    instrument_per_user: int = Field(default=3, ge=1, le=64, description="instrument operations one user may have")
    instrument_rate_per_s: float = Field(
        default=3.0, gt=0, le=1000, allow_inf_nan=False, description="instrument operations a user starts a second"
    )

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env in ("production", "staging"):
            if self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < 32:
                raise UnsafeSettingsError(
                    "secret_key",
                    f"the built-in development secret key may not be used in {self.env}; "
                    "set HENGQI_SECRET_KEY (at least 32 characters)",
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
