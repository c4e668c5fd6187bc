"""Fixtures of the channel tests: the local receiver and an in-process notifier over
SQLite with mail through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hitwatch.settings import load_settings
from hitwatch.store import open_database
from notifier.alerts import AlertTasks
from tests.integration.channels.support import BASE, SECRET_KEY
from tests.receivers import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def stack(tmp_path, inbox, receiver):
    settings = load_settings(
        data_dir=tmp_path / "data",
        smtp_port=inbox[1],
        mail_from="hitwatch <alerts@example.org>",
        secret_key=SECRET_KEY,
        public_base_url=BASE,
        channel_allow_http=True,
        channel_allowed_hosts="127.0.0.1",
        channel_pause_after=3,
        channel_timeout=1.0,
    )
    database = open_database(settings.resolved_database_url)
    database.migrate()
    tasks = AlertTasks(database, settings)
    yield settings, database, tasks, inbox[0]
    database.dispose()
