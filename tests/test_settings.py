"""One settings object: embedded default, scaled deployment, and production refusing weak secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from auditray.settings import DEFAULT_SECRET, Settings
from pydantic import ValidationError


def test_embedded_default_keeps_everything_under_one_data_directory(settings) -> None:
    data = settings.data_dir
    assert settings.resolved_database_url == f"sqlite:///{data / 'auditray.db'}"
    assert settings.resolved_datasets_uri == str(data / "datasets")
    assert settings.resolved_lancedb_uri == str(data / "lancedb")
    assert settings.ray_address is None
    assert settings.is_embedded


def test_scaled_deployment_differs_only_in_settings(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    monkeypatch.setenv("AUDITRAY_DATABASE_URL", "postgresql+psycopg://auditray:s3cret@db:5432/auditray")
    monkeypatch.setenv("AUDITRAY_DATASETS_URI", "s3://bucket/auditray/datasets")
    monkeypatch.setenv("AUDITRAY_LANCEDB_URI", "s3://bucket/auditray/lancedb")
    monkeypatch.setenv("AUDITRAY_RAY_ADDRESS", "ray://head:10001")
    scaled = Settings()
    assert scaled.resolved_datasets_uri == "s3://bucket/auditray/datasets"
    assert not scaled.is_embedded
    described = scaled.describe()
    assert "s3cret" not in described["database_url"] and "***" in described["database_url"]
    assert described["ray_address"] == "ray://head:10001"


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET, "too-short-secret"])
def test_production_refuses_default_or_short_secrets(monkeypatch: pytest.MonkeyPatch, settings, secret) -> None:
    monkeypatch.setenv("AUDITRAY_ENV", "production")
    if secret is not None:
        monkeypatch.setenv("AUDITRAY_SECRET_KEY", secret)
    with pytest.raises(ValidationError, match="AUDITRAY_SECRET_KEY must be set to a secret of at least 32"):
        Settings()


def test_production_accepts_a_long_random_secret(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    monkeypatch.setenv("AUDITRAY_ENV", "production")
    monkeypatch.setenv("AUDITRAY_SECRET_KEY", "x" * 16 + "7f3a9c2e51d84b6a")
    assert Settings().env == "production"


def test_settings_file_named_by_auditray_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings) -> None:
    config = tmp_path / "auditray.toml"
    config.write_text('[auditray]\ndata_dir = "/srv/audit"\nengine = "ray"\n')
    monkeypatch.delenv("AUDITRAY_DATA_DIR")
    monkeypatch.setenv("AUDITRAY_CONFIG", str(config))
    loaded = Settings()
    assert loaded.data_dir == Path("/srv/audit") and loaded.engine == "ray"
    # Environment variables win over the file.
    monkeypatch.setenv("AUDITRAY_ENGINE", "local")
    assert Settings().engine == "local"


def test_env_style_settings_file_with_a_bad_line_names_the_line(monkeypatch, tmp_path: Path, settings) -> None:
    config = tmp_path / "auditray.env"
    config.write_text("AUDITRAY_ENGINE=local\nthis line has no equals sign\n")
    monkeypatch.setenv("AUDITRAY_CONFIG", str(config))
    with pytest.raises(ValueError, match=r"auditray.env, line 2: expected KEY=VALUE"):
        Settings()
