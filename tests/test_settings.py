"""Settings: one table, every field documented, secrets never shown."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from btvstat_open.errors import UsageError
from btvstat_open.web.settings import Settings

DOCS = Path(__file__).parent.parent / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for f in fields(Settings):
        assert f"`{f.name}`" in text, f"{f.name} is missing from docs/settings.md"
        assert f"`BTVSTAT_{f.name.upper()}`" in text, (
            f"BTVSTAT_{f.name.upper()} is missing from docs/settings.md"
        )


def test_defaults() -> None:
    settings = Settings()
    assert settings.default_limit == 1000
    assert settings.max_limit == 0  # no cap on $limit, as on Socrata: the query budget bounds a read
    assert settings.max_columns >= 100 and settings.query_timeout_seconds > 0
    assert settings.write_token is None and not settings.writes_enabled


def test_from_env_reads_every_kind_of_value() -> None:
    env = {
        "BTVSTAT_MAX_LIMIT": "20_000",
        "BTVSTAT_WRITE_TOKEN": "s3cret-token",
        "BTVSTAT_SODA3_REQUIRE_APP_TOKEN": "yes",
        "BTVSTAT_PUBLISHER": "City of Example",
        "UNRELATED": "x",
    }
    settings = Settings.from_env(env)
    assert settings.max_limit == 20_000
    assert settings.write_token == "s3cret-token" and settings.writes_enabled
    assert settings.soda3_require_app_token is True
    assert settings.publisher == "City of Example"
    assert Settings.from_env(env, max_limit=7000).max_limit == 7000


def test_repr_redacts_the_write_token() -> None:
    settings = Settings(write_token="s3cret-token")
    assert "s3cret-token" not in repr(settings)
    assert "s3cret-token" not in str(settings)
    assert "write_token='***'" in repr(settings)


@pytest.mark.parametrize(
    "env",
    [
        {"BTVSTAT_MAX_LIMIT": "lots"},
        {"BTVSTAT_SODA3_REQUIRE_APP_TOKEN": "maybe"},
        {"BTVSTAT_DEFAULT_LIMIT": "0"},
        {"BTVSTAT_DEFAULT_LIMIT": "100", "BTVSTAT_MAX_LIMIT": "10"},
        {"BTVSTAT_QUERY_WORKERS": "0"},
        {"BTVSTAT_QUERY_QUEUE": "-1"},
    ],
)
def test_bad_values_are_clear_usage_errors(env: dict[str, str]) -> None:
    with pytest.raises(UsageError) as info:
        Settings.from_env(env)
    assert "BTVSTAT_" in info.value.message or "Setting" in info.value.message
