"""The SECRET_KEY rule: what signs sessions and link tokens must be long and secret.

The embedded demo (no REDIS_URL, no DATABASE_URL) needs no configuration: it keeps a
random key in the data dir, made on first use and shared by every process on that dir.
Anything else is a deployment, and its web app and workers refuse to start without a
SECRET_KEY of at least `MIN_SECRET_LENGTH` characters that is not a known default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from hitwatch.errors import SettingsError

if TYPE_CHECKING:
    from hitwatch.settings import Settings

__all__ = [
    "KNOWN_DEFAULT_SECRETS",
    "MAKE_ONE",
    "MIN_SECRET_LENGTH",
    "embedded_secret_key",
    "require_secret_key",
    "secret_key_problem",
]

MIN_SECRET_LENGTH = 32
MAKE_ONE = 'python -c "import secrets; print(secrets.token_hex(32))"'
# Defaults of earlier releases and of examples: published, so they sign nothing.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"dev-only-change-me", "change-me", "changeme", "secret", "test", "dev"}
)
KEY_FILE = "secret_key"


def embedded_secret_key(data_dir: Path) -> str:
    """The demo's key: read from `data_dir/secret_key`, made there (mode 0600) if absent."""
    path = data_dir / KEY_FILE
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text("ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def secret_key_problem(key: str) -> str | None:
    """What is wrong with `key` as a SECRET_KEY, or None."""
    if not key:
        return "SECRET_KEY is not set"
    if key in KNOWN_DEFAULT_SECRETS:
        return "SECRET_KEY is a published default"
    if len(key) < MIN_SECRET_LENGTH:
        return f"SECRET_KEY has {len(key)} characters, fewer than {MIN_SECRET_LENGTH}"
    return None


def require_secret_key(settings: Settings) -> None:
    """Raise SettingsError when a deployment (not the embedded demo) has no adequate key."""
    if settings.embedded:
        return
    problem = secret_key_problem(settings.secret_key.get_secret_value())
    if problem is not None:
        raise SettingsError(
            f"{problem}. Outside the embedded demo (REDIS_URL or DATABASE_URL is set) the web"
            f" app and workers need a random SECRET_KEY of at least {MIN_SECRET_LENGTH}"
            f" characters; make one with\n  {MAKE_ONE}\nand set SECRET_KEY to it (the same"
            " value for the web app and every worker)."
        )
