"""The web app for the digest pages, with a search index that must not be used."""

from __future__ import annotations

from flask import Flask

from webapp import create_app


class NoSearch:
    """The digest pages never search; any call to the index is a test failure."""

    def ensure(self) -> None:
        pass

    def __getattr__(self, name: str):
        raise AssertionError(f"digest pages must not use the search index ({name})")


def digest_app(settings, database) -> Flask:
    return create_app(
        settings,
        database=database,
        search_index=NoSearch(),  # type: ignore[arg-type]
        test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"},
    )
