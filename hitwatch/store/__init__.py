"""The store of record: SQLAlchemy models, sessions, Alembic migrations, failure records."""

from hitwatch.store.db import Database, open_database
from hitwatch.store.models import (
    AlertDelivery,
    AlertRule,
    Article,
    Base,
    Failure,
    Source,
    Story,
    StoryEvent,
)

__all__ = [
    "AlertDelivery",
    "AlertRule",
    "Article",
    "Base",
    "Database",
    "Failure",
    "Source",
    "Story",
    "StoryEvent",
    "open_database",
]
