"""`database_url`: from LEPTON_DATABASE_URL or lepton.toml, PostgreSQL only, and its password never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.config import load_settings

URL = "postgresql://lepton:s3cret-pw@db.internal:5432/lepton"


def test_unset_means_sqlite_files_in_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEPTON_DATABASE_URL", raising=False)
    assert load_settings(home=tmp_path).database_url is None
    monkeypatch.setenv("LEPTON_DATABASE_URL", "  ")
    assert load_settings(home=tmp_path).database_url is None


def test_read_from_the_environment_and_from_lepton_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEPTON_CONFIG", raising=False)
    monkeypatch.setenv("LEPTON_DATABASE_URL", URL)
    assert load_settings(home=tmp_path).database_url.get_secret_value() == URL
    monkeypatch.delenv("LEPTON_DATABASE_URL")
    (tmp_path / "lepton.toml").write_text(
        f'database_url = "{URL}"\nkey_pepper_file = "/run/secrets/pepper"\n'
    )
    settings = load_settings(home=tmp_path)
    assert settings.database_url.get_secret_value() == URL
    assert settings.key_pepper_file == Path("/run/secrets/pepper")


def test_the_password_is_never_shown(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, database_url=URL, key_pepper="p" * 40)
    shown = [
        str(settings.database_url),
        repr(settings.database_url),
        f"{settings.database_url}",
        repr(settings),
        str(settings.model_dump()),
        settings.model_dump_json(),
    ]
    assert all("s3cret-pw" not in text and "p" * 40 not in text for text in shown)
    assert str(settings.database_url) == "postgresql://lepton:***@db.internal:5432/lepton"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://lepton:s3cret-pw@db/lepton",
        "sqlite:////var/lib/lepton/all.db",
        "postgresql://lepton:s3cret-pw@db.internal:5432/",
        "s3cret-pw",
    ],
)
def test_anything_but_a_postgres_database_is_refused_without_echoing_it(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        load_settings(home=tmp_path, database_url=url)
    assert "database_url" in str(refused.value) and "s3cret-pw" not in str(refused.value)
