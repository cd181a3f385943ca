"""`[brand]` in lepton.toml / `LEPTON_BRAND__*`: normalised per language and validated with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.config import BrandSettings, load_settings


def test_defaults_are_the_widget_as_it_was() -> None:
    brand = load_settings().brand
    assert brand == BrandSettings()
    assert (brand.name, brand.color, brand.avatar, brand.greeting, brand.suggestions) == (
        "",
        "#2b59c3",
        None,
        {},
        {},
    )


def test_lepton_toml_with_tables_per_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "lepton.toml"
    config.write_text(
        '[brand]\nname = "Acme"\ncolor = "#F60"\navatar = "https://cdn.acme.example/logo.png"\n'
        'suggestions = ["Where is my order?", " Returns "]\n'
        '[brand.greeting]\nen = "Welcome to Acme!"\nzh = "欢迎光临"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LEPTON_CONFIG", str(config))
    brand = load_settings().brand
    assert brand.name == "Acme" and brand.color == "#f60"
    assert brand.avatar == "https://cdn.acme.example/logo.png"
    assert brand.greeting == {"en": "Welcome to Acme!", "zh": "欢迎光临"}
    assert brand.suggestions == {lang: ["Where is my order?", "Returns"] for lang in ("en", "zh")}


def test_environment_takes_plain_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEPTON_BRAND__GREETING", "Hello there")
    monkeypatch.setenv("LEPTON_BRAND__COLOR", "#00AA00")
    monkeypatch.setenv("LEPTON_BRAND__SUGGESTIONS", '{"zh": ["订单在哪里？"]}')
    brand = load_settings().brand
    assert brand.greeting == {"en": "Hello there", "zh": "Hello there"}
    assert brand.color == "#00aa00" and brand.suggestions == {"zh": ["订单在哪里？"]}


def test_inline_image_avatar() -> None:
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    assert BrandSettings(avatar=png).avatar == png
    assert BrandSettings(avatar="  ").avatar is None


def test_agent_avatars_by_name_in_any_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "lepton.toml"
    config.write_text(
        '[brand.agent_avatars]\nDana = "https://cdn.acme.example/dana.png"\n"Li Wei" = " "\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LEPTON_CONFIG", str(config))
    brand = load_settings().brand
    assert brand.agent_avatar(" dana ") == brand.agent_avatar("DANA") == "https://cdn.acme.example/dana.png"
    assert brand.agent_avatar("Li Wei") is None and brand.agent_avatar(None) is None  # an initial, then


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"color": "blue"}, "brand.color must be a hex colour"),
        ({"color": "#2b59c3; background: url(x)"}, "brand.color must be a hex colour"),
        ({"avatar": "javascript:alert(1)"}, "brand.avatar must be an http:// or https:// URL"),
        ({"avatar": "data:text/html,<script>alert(1)</script>"}, "brand.avatar must be"),
        ({"avatar": 'https://cdn.example/a.png" onerror="x'}, "brand.avatar must be"),
        ({"avatar": "//cdn.example/a.png"}, "brand.avatar must be"),
        ({"name": "x" * 61}, "at most 60 characters"),
        ({"greeting": {"fr": "Bonjour"}}, "unknown language 'fr'"),
        ({"greeting": "x" * 301}, "1 to 300 characters"),
        ({"greeting": " "}, "1 to 300 characters"),
        ({"suggestions": [f"q{i}" for i in range(7)]}, "at most 6 questions"),
        ({"suggestions": ["ok", "x" * 121]}, "1 to 120 characters"),
        ({"suggestions": "one question"}, "must be a list or a table of languages"),
        ({"colour": "#fff"}, "Extra inputs are not permitted"),
        ({"agent_avatars": {"dana": "javascript:alert(1)"}}, "brand.agent_avatars.dana must be an http"),
        ({"agent_avatars": {"dana": "x" * 48_001}}, "longer than 48000 characters"),
        ({"agent_avatars": {f"a{i}": "https://cdn.example/a.png" for i in range(201)}}, "at most 200 agents"),
    ],
)
def test_bad_settings_are_refused_clearly(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BrandSettings(**fields)
