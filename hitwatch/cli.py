"""The `hitwatch` command: one entry point for every service and operator task.

Service commands are imported only when invoked, so `hitwatch --help` stays fast and a
service's dependencies load only where that service runs.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

__all__ = ["main"]

# command name -> "module:attribute" of a click command; listed in the README.
COMMANDS: dict[str, str] = {
    "run": "hitwatch.launcher:run_command",
    "migrate": "hitwatch.operations:migrate_command",
    "settings": "hitwatch.operations:settings_command",
    "failures": "hitwatch.operations:failures_group",
    "worker": "hitwatch.operations:worker_command",
    "scheduler": "hitwatch.operations:scheduler_command",
    "bench": "hitwatch.bench.cli:bench_group",
}

# Short help shown by `hitwatch --help` without importing the command's module.
HELP: dict[str, str] = {
    "run": "Start the whole product (embedded Redis, workers, scheduler, web app) and crawl.",
    "migrate": "Create or upgrade the database tables.",
    "settings": "Print the effective settings (secrets masked).",
    "failures": "List and replay items that failed in the pipeline.",
    "worker": "Run one Celery worker for a pipeline stage.",
    "scheduler": "Run the periodic scheduler (source crawls by interval).",
    "bench": "Speed and memory figures: pipeline, crawl, classify, search, digest.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hitwatch")
def main() -> None:
    """hitwatch: monitoring of Chinese health-IT (卫生信息化) news and policy.

    Settings come from the environment (see .env.example); `hitwatch settings` shows them.
    """
