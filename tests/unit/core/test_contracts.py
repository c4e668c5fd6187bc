"""Architecture rules that keep the services apart and the docs honest."""

import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from hitwatch import tasks
from hitwatch.broker import create_celery
from hitwatch.cli import COMMANDS, HELP, main
from hitwatch.settings import load_settings

REPO = Path(__file__).resolve().parents[3]


def test_services_never_import_each_other_and_core_imports_no_service():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_part_of_the_core_has_its_place_in_the_layers():
    """A new module of the core must be placed in the layers contract, or nothing would
    stop it from importing a service."""
    import pkgutil
    import tomllib

    import hitwatch

    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    placed = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    core = {f"hitwatch.{module.name}" for module in pkgutil.iter_modules(hitwatch.__path__)}
    assert core - placed == set(), "add these to the layers contract in pyproject.toml"


def test_every_task_has_a_route_on_a_known_queue():
    app = create_celery(load_settings(), "test")
    names = [v for k, v in vars(tasks).items() if k.isupper() and isinstance(v, str) and "." in v]
    assert names, "no task names found"
    for name in names:
        assert app.conf.task_routes[name]["queue"] in tasks.QUEUES
        assert re.fullmatch(r"[a-z]+\.[a-z]+(_[a-z]+)+", name), (
            f"{name} is not <service>.<verb_noun>"
        )


def test_every_cli_command_is_documented_and_loads():
    readme = (REPO / "README.md").read_text("utf-8")
    runner = CliRunner()
    for name in COMMANDS:
        assert name in HELP, f"{name} lacks a HELP line"
        assert f"hitwatch {name}" in readme, f"README does not mention `hitwatch {name}`"
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, f"hitwatch {name} --help failed: {result.output}"


def test_a_command_on_an_unmigrated_database_says_to_migrate(tmp_path, monkeypatch):
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["digest", "list"])
    assert result.exit_code == 1
    assert "hitwatch migrate" in result.output
    assert str(tmp_path) in result.output
    assert "Traceback" not in result.output
