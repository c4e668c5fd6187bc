"""`hitwatch backup` and `hitwatch restore`: the stores of one installation in a folder.

What is kept, per store:
- the store of record: a SQLite file copied with SQLite's online backup API (readers and
  writers go on meanwhile), or `pg_dump --format=custom` of PostgreSQL;
- the embedded search index (SQLite FTS5) the same way; Elasticsearch is backed up by
  its own snapshot repository (README, Operations), or rebuilt with `hitwatch reindex`;
- Redis (queues, crawl state, the dedupe registry of stories): every key with its
  time to live, through DUMP/RESTORE, so it works for any Redis the settings name.
A `manifest.json` says what is in the folder; `restore` reads it back into the stores
the current settings name, refusing to overwrite stores that hold data unless forced.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import redis
from sqlalchemy import func, make_url, select

from hitwatch.settings import Settings, load_settings
from hitwatch.store import Article, open_database

__all__ = [
    "Manifest",
    "backup_command",
    "backup_installation",
    "restore_command",
    "restore_installation",
]

FORMAT = 1
STORE_SQLITE = "store.sqlite3"
STORE_PG_DUMP = "store.pgdump"
SEARCH_SQLITE = "search.sqlite3"
REDIS_KEYS = "redis.jsonl"
SQLITE_PAGES_PER_STEP = 1024


class BackupError(click.ClickException):
    """A backup or restore could not be made; the message says what to do."""


@dataclass
class Manifest:
    format: int = FORMAT
    created_at: str = ""
    store: str = ""  # "sqlite" | "postgresql"
    search: str = ""  # "fts5" | "elasticsearch (not included)"
    articles: int = 0
    redis_keys: int = 0
    files: list[str] = field(default_factory=list)


Progress = Callable[[str, int, int], None]  # (step, done, total)


def _quiet(_step: str, _done: int, _total: int) -> None:
    pass


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    return (
        Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None
    )


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore understand it (no driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _copy_sqlite(source: Path, target: Path, step: str, progress: Progress) -> None:
    """SQLite's online backup: a consistent copy while other connections keep working."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:

        def report(_status: int, remaining: int, total: int) -> None:
            progress(step, total - remaining, total)

        src.backup(dst, pages=SQLITE_PAGES_PER_STEP, progress=report)


def _run(args: list[str], what: str) -> None:
    tool = shutil.which(args[0])
    if tool is None:
        raise BackupError(f"{args[0]} is not installed: apt-get install postgresql-client ({what})")
    result = subprocess.run([tool, *args[1:]], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip()[-2000:]}")


def _dump_redis(client: redis.Redis, target: Path, progress: Progress) -> int:
    total = int(client.dbsize())
    done = 0
    with target.open("w", encoding="utf-8") as out:
        for key in client.scan_iter(count=1000):
            payload = client.dump(key)
            if payload is None:  # expired or deleted since the scan saw it
                continue
            ttl = int(client.pttl(key))
            out.write(
                json.dumps({"key": key.hex(), "value": payload.hex(), "ttl": max(ttl, 0)}) + "\n"
            )
            done += 1
            if done % 1000 == 0:
                progress("redis", done, total)
    progress("redis", done, max(total, done))
    return done


def backup_installation(settings: Settings, folder: Path, progress: Progress = _quiet) -> Manifest:
    """Copy every store the settings name into `folder` (created; must be new or empty)."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: give a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    database = open_database(settings.resolved_database_url)
    try:
        with database.session() as session:
            manifest.articles = session.scalar(select(func.count()).select_from(Article)) or 0
    finally:
        database.dispose()

    sqlite_store = _sqlite_path(settings.resolved_database_url)
    if sqlite_store is not None:
        manifest.store = "sqlite"
        _copy_sqlite(sqlite_store, folder / STORE_SQLITE, "store", progress)
        manifest.files.append(STORE_SQLITE)
    else:
        manifest.store = "postgresql"
        url = _libpq_url(settings.resolved_database_url)
        _run(["pg_dump", "--format=custom", f"--file={folder / STORE_PG_DUMP}", url], "pg_dump")
        progress("store", 1, 1)
        manifest.files.append(STORE_PG_DUMP)

    if settings.elasticsearch_url:
        manifest.search = "elasticsearch (not included: use a snapshot repository)"
    else:
        manifest.search = "fts5"
        if settings.fts_path.exists():
            _copy_sqlite(settings.fts_path, folder / SEARCH_SQLITE, "search", progress)
            manifest.files.append(SEARCH_SQLITE)

    client = redis.Redis.from_url(settings.resolved_redis_url)
    try:
        manifest.redis_keys = _dump_redis(client, folder / REDIS_KEYS, progress)
    except redis.exceptions.ConnectionError as error:
        raise BackupError(
            f"Redis at {settings.resolved_redis_url} does not answer ({error}): start it "
            "(hitwatch run starts the embedded one) and back up again"
        ) from None
    finally:
        client.close()
    manifest.files.append(REDIS_KEYS)
    (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2), "utf-8")
    return manifest


def _read_manifest(folder: Path) -> Manifest:
    try:
        data = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder} is not a hitwatch backup (manifest.json: {error})") from None
    if data.get("format") != FORMAT:
        raise BackupError(f"backup format {data.get('format')} is not {FORMAT}")
    return Manifest(**data)


def _store_is_empty(settings: Settings) -> bool:
    database = open_database(settings.resolved_database_url)
    try:
        with database.session() as session:
            return not session.scalar(select(func.count()).select_from(Article))
    except Exception:  # no tables yet: nothing to lose
        return True
    finally:
        database.dispose()


def restore_installation(
    settings: Settings, folder: Path, *, force: bool = False, progress: Progress = _quiet
) -> Manifest:
    """Put a backup back into the stores the settings name (stop the workers first)."""
    manifest = _read_manifest(folder)
    client = redis.Redis.from_url(settings.resolved_redis_url)
    if not force and (not _store_is_empty(settings) or client.dbsize()):
        raise BackupError(
            "the stores already hold data: restore into an empty installation, or pass "
            "--force to replace what is there"
        )
    sqlite_store = _sqlite_path(settings.resolved_database_url)
    if manifest.store == "sqlite":
        if sqlite_store is None:
            raise BackupError("this backup holds a SQLite store; DATABASE_URL names PostgreSQL")
        _copy_sqlite(folder / STORE_SQLITE, sqlite_store, "store", progress)
    else:
        if sqlite_store is not None:
            raise BackupError("this backup holds a PostgreSQL dump; DATABASE_URL names SQLite")
        url = _libpq_url(settings.resolved_database_url)
        _run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={url}",
             str(folder / STORE_PG_DUMP)],
            "pg_restore",
        )  # fmt: skip
        progress("store", 1, 1)
    if SEARCH_SQLITE in manifest.files and not settings.elasticsearch_url:
        _copy_sqlite(folder / SEARCH_SQLITE, settings.fts_path, "search", progress)
    done = 0
    with (folder / REDIS_KEYS).open(encoding="utf-8") as lines:
        pipe = client.pipeline(transaction=False)
        for line in lines:
            row = json.loads(line)
            pipe.restore(
                bytes.fromhex(row["key"]), row["ttl"], bytes.fromhex(row["value"]), replace=True
            )
            done += 1
            if done % 1000 == 0:
                pipe.execute()
                progress("redis", done, manifest.redis_keys)
        pipe.execute()
    progress("redis", done, max(done, manifest.redis_keys))
    client.close()
    return manifest


@contextmanager
def _bars() -> Iterator[Progress]:
    """One progress bar per step, opened when the step first reports."""
    bars: dict[str, Any] = {}
    seen: dict[str, int] = {}
    with ExitStack() as stack:

        def report(step: str, done: int, total: int) -> None:
            if step not in bars:
                bar = click.progressbar(length=max(total, 1), label=f"{step:<7}")
                bars[step] = stack.enter_context(bar)
                seen[step] = 0
            bars[step].length = max(total, 1)
            bars[step].update(done - seen[step])
            seen[step] = done

        yield report


@click.command("backup")
@click.option(
    "--to",
    "folder",
    type=click.Path(path_type=Path),
    help="New folder for the backup (default: backups/<time> in HITWATCH_DATA_DIR).",
)
def backup_command(folder: Path | None) -> None:
    """Copy the store of record, the FTS5 index and Redis into one folder."""
    settings = load_settings()
    folder = folder or settings.data_dir / "backups" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with _bars() as progress:
        manifest = backup_installation(settings, folder, progress)
    click.echo(
        f"backed up {manifest.articles} articles ({manifest.store}), search index "
        f"{manifest.search}, {manifest.redis_keys} Redis keys into {folder}"
    )


@click.command("restore")
@click.argument("folder", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace stores that already hold data.")
def restore_command(folder: Path, force: bool) -> None:
    """Put a backup made by `hitwatch backup` back (stop workers and web app first)."""
    settings = load_settings()
    with _bars() as progress:
        manifest = restore_installation(settings, folder, force=force, progress=progress)
    click.echo(
        f"restored {manifest.articles} articles ({manifest.store}) and {manifest.redis_keys} "
        f"Redis keys from {folder} (made {manifest.created_at})"
    )
