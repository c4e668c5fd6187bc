"""Settings are documented everywhere they must be, and read only from the environment."""

import re
from pathlib import Path

from pydantic import SecretStr

from hitwatch.settings import Settings, env_example, load_settings

REPO = Path(__file__).resolve().parents[3]


def test_env_example_lists_every_setting_as_generated():
    assert (REPO / ".env.example").read_text("utf-8") == env_example(), (
        "regenerate with `hitwatch settings --env-example > .env.example`"
    )


def test_readme_settings_table_names_every_setting():
    readme = (REPO / "README.md").read_text("utf-8")
    missing = [
        str(info.validation_alias)
        for info in Settings.model_fields.values()
        if f"`{info.validation_alias}`" not in readme
    ]
    assert not missing, f"README settings table lacks {missing}"


def test_every_setting_has_a_description():
    assert all(info.description for info in Settings.model_fields.values())


def test_environment_is_read_and_typed(monkeypatch, tmp_path):
    for name in ("EMBEDDED_REDIS_PORT", "REDIS_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEB_PORT", "9123")
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.web_port == 9123
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'hitwatch.db'}"
    assert settings.resolved_redis_url == "redis://127.0.0.1:6390/0"


def test_masked_hides_secrets_and_url_passwords():
    settings = load_settings(
        secret_key=SecretStr("s3cret"), database_url="postgresql+psycopg://u:pw@db:5432/x"
    )
    shown = settings.masked()
    assert shown["SECRET_KEY"] == "********"
    assert "pw" not in shown["DATABASE_URL"] and shown["DATABASE_URL"].endswith("@db:5432/x")


def test_no_module_reads_os_environ_on_its_own():
    """Settings are read at the edge only (hitwatch.settings via pydantic; the launcher
    and the harnesses that start workers or services passing the environment on to their
    children)."""
    allowed = {
        "hitwatch/launcher.py",
        "hitwatch/bench/pipeline.py",
        "hitwatch/bench/faults.py",
        "hitwatch/bench/soak.py",
    }
    offenders = []
    for package in ("hitwatch", "crawler", "classifier", "indexer", "notifier", "webapp"):
        for path in (REPO / package).rglob("*.py"):
            relative = path.relative_to(REPO).as_posix()
            if relative not in allowed and re.search(
                r"os\.environ|os\.getenv", path.read_text("utf-8")
            ):
                offenders.append(relative)
    assert not offenders
