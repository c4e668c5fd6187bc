"""The one exception hierarchy of hitwatch.

Tasks retry `TransientError` (and the infrastructure errors listed in `RETRYABLE`) with
backoff; everything else is permanent and goes straight to the failure table.
"""

from __future__ import annotations

__all__ = [
    "ArticleRemovedError",
    "ExtractionError",
    "HitwatchError",
    "PermanentError",
    "QueryError",
    "SchemaError",
    "SearchBackendError",
    "SettingsError",
    "TransientError",
]


class HitwatchError(Exception):
    """Base of every error hitwatch raises on purpose."""


class SettingsError(HitwatchError):
    """The settings are unsafe or inconsistent; the message says what to set."""


class TransientError(HitwatchError):
    """A failure that may succeed later (a server down, a timeout)."""


class PermanentError(HitwatchError):
    """A failure that retrying cannot fix (bad input, a bug)."""


class SchemaError(PermanentError):
    """A message does not match its versioned schema."""


class ExtractionError(PermanentError):
    """A page could not be turned into an article."""


class ArticleRemovedError(PermanentError):
    """The page says its article was removed or blocked (a 公众号 article): nothing to extract."""


class QueryError(PermanentError):
    """A search query is malformed or too large; the message (for readers) says where."""

    def __init__(
        self, message: str, *, code: str = "invalid", position: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # a key of hitwatch/search/query_errors.yaml
        self.position = position  # 1-based character of the query where the problem is
        self.detail = detail  # the query with a caret under that character


class SearchBackendError(TransientError):
    """The search index could not be reached or refused a request."""
