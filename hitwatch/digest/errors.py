"""Digest errors: each names what went wrong and what to do, in the user's language.

The text of every error lives in `errors.yaml` (Chinese is data); code raises an error by
its key with the values to fill in, so tests can check the key and users read the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import yaml

from hitwatch.errors import PermanentError

__all__ = ["DigestError", "PeriodError", "invariant_problems"]


@cache
def _texts() -> dict[str, dict[str, str]]:
    text = resources.files("hitwatch.digest").joinpath("errors.yaml").read_text("utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(text)
    return data


class DigestError(PermanentError):
    """A digest action that cannot be done as asked; the message says what to do."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key, self.values = key, values
        super().__init__(_texts()["messages"][key].format(**values))


class PeriodError(DigestError, ValueError):
    """A month or week written in a form we cannot read."""


_INVARIANT = re.compile(r"^(?:invariant (\d)|structure): (.*)$")


def invariant_problems(problems: Sequence[str]) -> str:
    """`check_invariants` findings as lines a person can act on: what is wrong (from the
    data file), then the finding itself in parentheses."""
    texts = _texts()["invariants"]
    lines = []
    for problem in problems:
        match = _INVARIANT.match(problem)
        key = (match.group(1) or "structure") if match else "structure"
        detail = match.group(2) if match else problem
        lines.append(f"· {texts[key]}（{detail}）")
    return "\n".join(lines)
