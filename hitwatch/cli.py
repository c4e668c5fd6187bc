"""The `hitwatch` command: one entry point for every service and operator task.

Service commands are imported only when invoked, so `hitwatch --help` stays fast and a
service's dependencies load only where that service runs.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import click

__all__ = ["main"]

# command name -> "module:attribute" of a click command; listed in the README.
COMMANDS: dict[str, str] = {
    "run": "hitwatch.launcher:run_command",
    "migrate": "hitwatch.operations:migrate_command",
    "backup": "hitwatch.backup:backup_command",
    "restore": "hitwatch.backup:restore_command",
    "reindex": "hitwatch.reindex:reindex_command",
    "settings": "hitwatch.operations:settings_command",
    "check": "hitwatch.operations:check_command",
    "failures": "hitwatch.operations:failures_group",
    "worker": "hitwatch.operations:worker_command",
    "mailcatcher": "hitwatch.operations:mailcatcher_command",
    "scheduler": "hitwatch.operations:scheduler_command",
    "digest": "hitwatch.digest.cli:digest_group",
    "alerts": "hitwatch.alerts.cli:alerts_group",
    "users": "hitwatch.accounts.cli:users_group",
    "bench": "hitwatch.bench.cli:bench_group",
    "eval": "hitwatch.bench.cli:eval_group",
    "web": "webapp.cli:web_command",
    "extract": "classifier.extraction.cli:extract_command",
    "classify": "classifier.cli:classify_command",
    "train": "classifier.cli:train_command",
    "reclassify": "classifier.cli:reclassify_command",
    "crawl": "crawler.cli:crawl_command",
    "sources": "crawler.cli:sources_command",
    "mirror": "crawler.cli:mirror_command",
}

# Short help shown by `hitwatch --help` without importing the command's module.
HELP: dict[str, str] = {
    "run": "Start the whole product (embedded Redis, workers, scheduler, web app) and crawl.",
    "migrate": "Create or upgrade the database tables.",
    "backup": "Copy the store of record, the FTS5 index and Redis into one folder.",
    "restore": "Put a backup back into the stores the settings name.",
    "reindex": "Rebuild the search index from the store and swap it in without downtime.",
    "settings": "Print the effective settings (secrets masked).",
    "check": "List insecure settings (secret, TLS, passwords, fetch guard); exit 1 if any.",
    "failures": "List and replay items that failed in the pipeline.",
    "worker": "Run one Celery worker for a pipeline stage.",
    "mailcatcher": "Catch outgoing mail locally for the web app's 邮件 page (the demo).",
    "scheduler": "Run the periodic scheduler (source crawls by interval).",
    "digest": "Build, show, publish and correct digest issues (月报/周报).",
    "alerts": "List, add and remove alert rules; test a query on recent stories.",
    "users": "Accounts and roles: add, list, set-role, remove; one-time password links.",
    "bench": "Speed and memory figures: pipeline, crawl, classify, search, digest, alerts.",
    "eval": "Quality figures on labelled data: extraction, classification, dedupe, policy links.",
    "extract": "Extract the article of a saved page and print it as JSON (FILE [URL]).",
    "classify": "Extract and classify a saved page; print topics, type, entities as JSON.",
    "train": "Train the learned relevance model on the tuning part (for comparison).",
    "reclassify": "Classify stored documents again after a taxonomy change (--since DATE | --all).",
    "crawl": "Crawl the sources (demo mirror or live) and queue new articles for classification.",
    "sources": "Show every source definition and its health (state, last success, items, errors).",
    "mirror": "Serve the bundled offline mirror of the watched sites (demo mode).",
    "web": "Serve the web app (latest items, search, digests, sources, failures).",
}


# The file prometheus-client keeps per process in its multiprocess folder.
_METRICS_FILE = re.compile(r"(?:counter|gauge_\w+|histogram|summary)_\d+\.db")


class LazyGroup(click.Group):
    """A group whose subcommands are imported from "module:attribute" only when used."""

    def __init__(
        self,
        *args: Any,
        lazy: dict[str, str] | None = None,
        lazy_help: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy if lazy is not None else COMMANDS
        self.lazy_help = lazy_help if lazy_help is not None else HELP

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        from hitwatch.errors import SettingsError

        try:
            return super().invoke(ctx)
        except SettingsError as error:
            raise click.ClickException(str(error)) from error
        except FileNotFoundError as error:
            # prometheus-client writes a file per process into PROMETHEUS_MULTIPROC_DIR
            # from the first metric on, which is when a service's module is imported.
            name = Path(str(error.filename or ""))
            if not _METRICS_FILE.fullmatch(name.name):
                raise
            raise click.ClickException(
                f"the metrics folder {name.parent} (PROMETHEUS_MULTIPROC_DIR) does not exist:"
                " create it, empty, before starting hitwatch processes"
            ) from error
        except Exception as error:
            # Imported here so that `hitwatch --help` does not load SQLAlchemy.
            from hitwatch.store.db import database_error_message

            message = database_error_message(error)
            if message is None:
                raise
            raise click.ClickException(message) from error

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            text = self.lazy_help.get(name)
            if text is None:
                command = super().get_command(ctx, name)
                text = command.get_short_help_str(70) if command else ""
            rows.append((name, text))
        if not rows:
            return
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hitwatch")
def main() -> None:
    """hitwatch: monitoring of Chinese health-IT (卫生信息化) news and policy.

    Settings come from the environment (see .env.example); `hitwatch settings` shows them.
    """
