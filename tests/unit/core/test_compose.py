"""docker-compose.yml is valid Compose and every service runs a command that exists."""

import json
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from hitwatch.cli import main

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
