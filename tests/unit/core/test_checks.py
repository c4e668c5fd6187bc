"""`hitwatch check`: each insecure setting is found, named and explained; a safe one is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hitwatch.accounts import add_user
from hitwatch.checks import CHECKS, is_local_host, run_checks
from hitwatch.cli import main
from hitwatch.settings import Settings, load_settings
from hitwatch.store import open_database

SAFE = {
    "SECRET_KEY": "0123456789abcdef0123456789abcdef",
    "REDIS_URL": "redis://:pw@redis.internal:6379/0",
    "DATABASE_URL": "postgresql+psycopg://hitwatch:pw@db.internal:5432/hitwatch",
    "ELASTICSEARCH_URL": "http://elastic:pw@es1:9200,https://elastic:pw@es2:9200",
    "SMTP_HOST": "smtp.example.org",
    "SMTP_PORT": "587",
    "SMTP_STARTTLS": "true",
    "PUBLIC_BASE_URL": "https://hitwatch.example.org",
}


def settings_of(tmp_path: Path, **changes: str) -> Settings:
    values = {**SAFE, **changes}
    return load_settings(HITWATCH_DATA_DIR=str(tmp_path), **{k: v for k, v in values.items()})


def findings(settings: Settings) -> dict[str, str]:
    return {f.setting: f.problem for _, found in run_checks(settings, store=False) for f in found}


def test_a_safe_deployment_has_no_finding(tmp_path: Path) -> None:
    assert findings(settings_of(tmp_path)) == {}
    assert [name for name, _ in CHECKS] == [
        "secret key",
        "SMTP over TLS",
        "public address over https",
        "server passwords",
        "fetch guard",
        "channels over https",
    ]


def test_the_embedded_demo_has_no_finding(tmp_path: Path) -> None:
    assert findings(load_settings(data_dir=tmp_path)) == {}


@pytest.mark.parametrize(
    ("change", "setting", "problem"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY", "not set"),
        ({"SECRET_KEY": "dev-only-change-me"}, "SECRET_KEY", "published default"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY", "fewer than 32"),
        ({"SMTP_STARTTLS": "false"}, "SMTP_STARTTLS", "smtp.example.org:587 is sent without TLS"),
        ({"PUBLIC_BASE_URL": "http://hitwatch.example.org"}, "PUBLIC_BASE_URL", "not https"),
        ({"PUBLIC_BASE_URL": "", "WEB_HOST": "0.0.0.0"}, "PUBLIC_BASE_URL", "http://0.0.0.0"),
        ({"REDIS_URL": "redis://redis.internal:6379/0"}, "REDIS_URL", "without a password"),
        ({"REDIS_URL": "redis://user@10.0.0.5/0"}, "REDIS_URL", "Redis on 10.0.0.5"),
        (
            {"DATABASE_URL": "postgresql+psycopg://hitwatch@db.internal/hitwatch"},
            "DATABASE_URL",
            "PostgreSQL on db.internal",
        ),
        (
            {"ELASTICSEARCH_URL": "http://elastic:pw@es1:9200,http://es2:9200"},
            "ELASTICSEARCH_URL",
            "Elasticsearch on es2",
        ),
        ({"FETCH_ALLOW_PRIVATE": "true"}, "FETCH_ALLOW_PRIVATE", "loopback, private"),
        ({"CHANNEL_ALLOW_HTTP": "true"}, "CHANNEL_ALLOW_HTTP", "travel unencrypted"),
    ],
)
def test_each_insecure_setting_is_found(
    tmp_path: Path, change: dict[str, str], setting: str, problem: str
) -> None:
    found = findings(settings_of(tmp_path, **change))
    assert list(found) == [setting]
    assert problem in found[setting]


@pytest.mark.parametrize(
    "change",
    [
        {"SMTP_HOST": "127.0.0.1", "SMTP_STARTTLS": "false"},
        {"PUBLIC_BASE_URL": "http://localhost:8000"},
        {"REDIS_URL": "redis://127.0.0.1:6379/0"},
        {"DATABASE_URL": "postgresql+psycopg://hitwatch@/hitwatch?host=/run/postgresql"},
        {"DATABASE_URL": "sqlite:////var/lib/hitwatch/hitwatch.db"},
        {"ELASTICSEARCH_URL": "http://[::1]:9200"},
        {"FETCH_ALLOWED_HOSTS": "intranet.hospital"},
        {"CHANNEL_ALLOWED_HOSTS": "webhook.intranet.hospital"},
    ],
)
def test_what_only_this_machine_reaches_is_not_a_finding(
    tmp_path: Path, change: dict[str, str]
) -> None:
    assert findings(settings_of(tmp_path, **change)) == {}


def test_local_hosts() -> None:
    assert all(map(is_local_host, ["localhost", "127.0.0.2", "[::1]", "a.localhost", "/run/pg"]))
    assert not any(map(is_local_host, ["redis", "10.0.0.1", "::ffff:8.8.8.8", "example.org"]))


def test_command_lists_findings_with_the_fix_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"  # a migrated store with an admin
    database = open_database(store)
    database.migrate()
    with database.session() as session:
        add_user(session, "root@example.org", "admin", password="a long passphrase")
    database.dispose()
    for name, value in {**SAFE, "SECRET_KEY": "", "SMTP_STARTTLS": "false"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", store)
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert "INSECURE  SECRET_KEY: SECRET_KEY is not set" in result.output
    assert "fix: set SECRET_KEY to 32+ random characters" in result.output
    assert "INSECURE  SMTP_STARTTLS" in result.output and "ok        fetch guard" in result.output
    assert "2 insecure setting(s)" in result.output
    monkeypatch.setenv("SECRET_KEY", SAFE["SECRET_KEY"])
    monkeypatch.setenv("SMTP_STARTTLS", "true")
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0 and "no insecure settings found" in result.output


def test_an_installation_without_an_admin_is_found(tmp_path: Path, database, settings) -> None:  # type: ignore[no-untyped-def]
    def store_findings(chosen: Settings) -> dict[str, str]:
        return {f.setting: f.problem for _, found in run_checks(chosen) for f in found}

    assert store_findings(settings) == {"users": store_findings(settings)["users"]}
    assert "anyone may read" in store_findings(settings)["users"]
    private = settings.model_copy(update={"read_access": "login"})
    assert store_findings(private)["users"].startswith("no admin account exists")
    with database.session() as session:
        add_user(session, "root@example.org", "admin", password="a long passphrase")
    assert store_findings(settings) == {}
    unmigrated = load_settings(data_dir=tmp_path / "elsewhere")
    assert "could not be read" in store_findings(unmigrated)["DATABASE_URL"]
