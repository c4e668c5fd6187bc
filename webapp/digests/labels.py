"""What the digest pages call each kind of issue."""

from __future__ import annotations

from hitwatch.digest.build import period_word
from hitwatch.digest.workflow import KINDS
from hitwatch.settings import Settings

__all__ = ["kind_labels"]


def kind_labels(settings: Settings) -> dict[str, str]:
    """What each kind of issue calls itself (月报, 周报, 专报): the same settings as the
    digest's own text, so the page, the files and the e-mail name an issue alike."""
    return {kind: period_word(kind, settings) for kind in KINDS}
