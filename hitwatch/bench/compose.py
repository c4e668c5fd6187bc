"""The application services of `docker-compose.yml`, as local processes for the soak.

`hitwatch bench soak` runs the product as the compose file deploys it, without Docker:
every service built from the hitwatch image is started with its own `command` behind the
image's ENTRYPOINT (read from the Dockerfile) and with its compose `environment`,
interpolated the way compose does it (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`,
`$$`). Addresses on the compose network (`postgres:5432`, `redis:6379`,
`elasticsearch:9200`) are rewritten to the local servers that stand in for those
services, so the compose file's commands and settings are what runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

__all__ = [
    "ComposeError",
    "ComposeService",
    "Endpoint",
    "application_services",
    "entrypoint",
    "interpolate",
    "load_compose",
    "map_addresses",
    "service_command",
]

APP_IMAGE = "hitwatch:latest"

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class ComposeError(ValueError):
    """The compose file cannot be run as it stands (a required variable is missing...)."""


@dataclass(frozen=True)
class Endpoint:
    """A local server standing in for a compose service: its `netloc` replaces the
    compose address's host, port and (unless `keep_credentials`) credentials; `path`,
    when given, the URL's path (a database of its own for the run)."""

    netloc: str
    path: str | None = None
    keep_credentials: bool = False


@dataclass(frozen=True)
class ComposeService:
    name: str
    command: tuple[str, ...]
    environment: dict[str, str]
    # Others wait for it to finish (depends_on ... service_completed_successfully).
    one_shot: bool = False
    tmpfs: tuple[str, ...] = ()  # folders the container gets empty at each start


def load_compose(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text("utf-8"))  # the safe loader resolves `<<` merges
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ComposeError(f"{path}: no services")
    return data


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """`value` with compose's variable syntax replaced from `variables`."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg = match["op"] or "", match["arg"] or ""
        present = name in variables
        current = variables.get(name, "")
        if op in (":?", "?"):
            if not present or (op == ":?" and not current):
                raise ComposeError(f"variable {name} is required: {arg}")
            return current
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if present else arg
        if op == ":+":
            return arg if current else ""
        if op == "+":
            return arg if present else ""
        return current

    return _VARIABLE.sub(replace, value)


def map_addresses(value: str, endpoints: Mapping[str, Endpoint]) -> str:
    """A URL whose host is a compose service, pointed at the local server for it."""
    if "://" not in value:
        return value
    parts = urlsplit(value)
    endpoint = endpoints.get(parts.hostname or "")
    if endpoint is None:
        return value
    netloc = endpoint.netloc
    if endpoint.keep_credentials and "@" in parts.netloc:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    path = parts.path if endpoint.path is None else endpoint.path
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


def entrypoint(dockerfile: Path) -> tuple[str, ...]:
    """The image's ENTRYPOINT (exec form), e.g. ("hitwatch",)."""
    for line in dockerfile.read_text("utf-8").splitlines():
        if line.startswith("ENTRYPOINT"):
            return tuple(json.loads(line.removeprefix("ENTRYPOINT").strip()))
    raise ComposeError(f"{dockerfile}: no ENTRYPOINT")


def _environment(raw: Any) -> dict[str, str]:
    if isinstance(raw, list):  # ["KEY=value", ...]
        return dict(str(item).split("=", 1) for item in raw)
    return {str(k): "" if v is None else str(v) for k, v in (raw or {}).items()}


def service_command(compose: dict[str, Any], name: str, variables: Mapping[str, str]) -> list[str]:
    """The interpolated `command` of service `name` (e.g. how compose starts Redis)."""
    command = compose["services"][name].get("command") or []
    return [interpolate(str(part), variables) for part in command]


def application_services(
    compose: dict[str, Any],
    variables: Mapping[str, str],
    endpoints: Mapping[str, Endpoint],
) -> list[ComposeService]:
    """Every service that runs the hitwatch image, in start order (one-shot jobs first)."""
    services = compose["services"]
    waited_for = {
        dependency
        for spec in services.values()
        if isinstance(spec.get("depends_on"), dict)
        for dependency, condition in spec["depends_on"].items()
        if (condition or {}).get("condition") == "service_completed_successfully"
    }
    found = []
    for name, spec in services.items():
        if spec.get("image") != APP_IMAGE and "build" not in spec:
            continue
        if spec.get("profiles"):
            continue  # started only on request (like the dev mail catcher)
        environment = {
            key: map_addresses(interpolate(value, variables), endpoints)
            for key, value in _environment(spec.get("environment")).items()
        }
        command = tuple(interpolate(str(part), variables) for part in spec.get("command") or ())
        if not command:
            raise ComposeError(f"service {name} has no command")
        tmpfs = spec.get("tmpfs") or ()
        found.append(
            ComposeService(
                name,
                command,
                environment,
                one_shot=name in waited_for,
                tmpfs=(tmpfs,) if isinstance(tmpfs, str) else tuple(str(t) for t in tmpfs),
            )
        )
    return sorted(found, key=lambda service: not service.one_shot)
