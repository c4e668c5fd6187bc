"""docker-compose.yml is valid Compose and every service runs a command that exists."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hitwatch.checks import run_checks
from hitwatch.cli import main
from hitwatch.secret_key import require_secret_key
from hitwatch.settings import Settings

REPO = Path(__file__).resolve().parents[3]
COMPOSE = REPO / "docker-compose.yml"
INFRASTRUCTURE = {"redis", "postgres", "elasticsearch", "mailcatcher"}


def test_compose_file_matches_the_compose_specification(tmp_path):
    # check-jsonschema ships the Compose specification's schema, so no network is needed.
    as_json = tmp_path / "compose.json"
    as_json.write_text(json.dumps(yaml.safe_load(COMPOSE.read_text("utf-8"))))
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("check-jsonschema")),
            "--builtin-schema",
            "vendor.compose-spec",
            str(as_json),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_application_service_runs_an_existing_hitwatch_command():
    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    runner = CliRunner()
    app_services = [name for name in services if name not in INFRASTRUCTURE]
    assert {"crawler", "classifier", "indexer", "notifier", "scheduler", "web"} <= set(app_services)
    for name in app_services:
        command = services[name]["command"]
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0, (
            f"service {name}: `hitwatch {' '.join(command)}` failed\n{result.output}"
        )


def test_stores_persist_and_elasticsearch_matches_the_tested_version():
    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    assert "--appendonly" in services["redis"]["command"]
    services_script = (REPO / "scripts" / "services").read_text("utf-8")
    version = services["elasticsearch"]["image"].rsplit(":", 1)[1]
    assert version in services_script, "compose and CI must run the same Elasticsearch version"


# What production must set: the file names these with `${NAME:?...}` and no default, so
# `docker compose` refuses to start without them. Sample values stand in for them here.
MUST_SET = {
    "SECRET_KEY": "5f2b" * 16,
    "REDIS_PASSWORD": "a1" * 12,
    "POSTGRES_PASSWORD": "b2" * 12,
    "ELASTIC_PASSWORD": "c3" * 12,
    "PUBLIC_BASE_URL": "https://hitwatch.example.org",
    "SMTP_HOST": "smtp.example.org",
}
VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def interpolate(value: str, given: dict[str, str], required: set[str]) -> str:
    """Compose's `${NAME:?message}` / `${NAME:-default}` / `$$` with `given` as the shell."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if kind == "?":
            required.add(name)
            return given[name]
        return given.get(name, rest if kind == "-" else "")

    return VARIABLE.sub(one, value).replace("$$", "$")


def test_only_the_web_port_is_published_and_the_mail_catcher_is_for_development():
    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    published = {name for name, s in services.items() if s.get("ports") and not s.get("profiles")}
    assert published == {"web"}
    assert services["mailcatcher"]["profiles"] == ["dev"]
    assert all(p.startswith("127.0.0.1:") for p in services["mailcatcher"]["ports"])


def test_servers_require_passwords_from_the_environment_with_no_default():
    text = COMPOSE.read_text("utf-8")
    for name in ("SECRET_KEY", "REDIS_PASSWORD", "POSTGRES_PASSWORD", "ELASTIC_PASSWORD"):
        uses = [m for m in VARIABLE.finditer(text) if m.group(1) == name]
        assert uses, name
        assert all(m.group(2) == "?" for m in uses), f"{name} must have no default"
    services = yaml.safe_load(text)["services"]
    redis_command = services["redis"]["command"]
    assert redis_command[redis_command.index("--requirepass") + 1] == (
        "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
    )
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    elastic = services["elasticsearch"]["environment"]
    assert elastic["xpack.security.enabled"] == "true"
    assert elastic["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD:?")


@pytest.mark.parametrize("service", ["web", "notifier", "migrate"])
def test_hitwatch_check_finds_nothing_in_the_compose_environment(service):
    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    required: set[str] = set()
    environment = {
        name: interpolate(str(value), MUST_SET, required)
        for name, value in services[service]["environment"].items()
    }
    assert required == set(MUST_SET)
    settings = Settings(**environment)
    assert settings.redis_url == f"redis://:{MUST_SET['REDIS_PASSWORD']}@redis:6379/0"
    assert settings.smtp_starttls and settings.smtp_port == 587
    # The settings alone: the stack's database is not there in a unit test (the admin
    # account check is tested in test_checks).
    found = [f for _, findings in run_checks(settings, store=False) for f in findings]
    assert found == []
    require_secret_key(settings)


def test_the_compose_environment_without_tls_to_mail_is_found():
    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    given = {**MUST_SET, "SMTP_HOST": "mailcatcher", "SMTP_PORT": "1025", "SMTP_STARTTLS": "false"}
    environment = {
        name: interpolate(str(value), given, set())
        for name, value in services["web"]["environment"].items()
    }
    found = [f.setting for _, fs in run_checks(Settings(**environment), store=False) for f in fs]
    assert found == ["SMTP_STARTTLS"]
