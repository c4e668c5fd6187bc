"""The store of record: SQLAlchemy models, sessions, Alembic migrations, failure records."""

from hitwatch.store.db import Database, open_database
from hitwatch.store.models import Article, Base, Failure, Source, Story, StoryEvent

__all__ = [
    "Article",
    "Base",
    "Database",
    "Failure",
    "Source",
    "Story",
    "StoryEvent",
    "open_database",
]
