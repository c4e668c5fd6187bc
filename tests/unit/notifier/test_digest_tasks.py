"""The notifier's digest tasks: which period closed, and links that the web app serves."""

from datetime import date

import pytest
from werkzeug.routing import RequestRedirect

from hitwatch.digest.delivery import subscriber_links
from notifier.digests import closed_period
from webapp import create_app


@pytest.mark.parametrize(
    ("kind", "today", "period"),
    [
        ("monthly", date(2024, 8, 1), (date(2024, 7, 1), date(2024, 7, 31))),
        ("monthly", date(2025, 1, 15), (date(2024, 12, 1), date(2024, 12, 31))),
        ("monthly", date(2024, 3, 1), (date(2024, 2, 1), date(2024, 2, 29))),
        ("weekly", date(2024, 7, 8), (date(2024, 7, 1), date(2024, 7, 7))),
        ("weekly", date(2025, 1, 1), (date(2024, 12, 23), date(2024, 12, 29))),
    ],
)
def test_closed_period(kind, today, period):
    assert closed_period(kind, today) == period


def test_subscriber_links_resolve_to_web_app_routes(settings, database):
    app = create_app(settings, database=database)
    links = subscriber_links("https://hitwatch.example.org")(
        type("Issue", (), {"id": 7})(), "TOKEN", "PREFS"
    )
    adapter = app.url_map.bind("hitwatch.example.org", url_scheme="https")
    for url, method, wanted in (
        (links.web, "GET", "digests.issue"),
        (links.unsubscribe, "GET", "subscriptions.unsubscribe_page"),
        (links.one_click, "POST", "subscriptions.one_click_unsubscribe"),
        (links.preferences, "GET", "subscriptions.preferences"),
        (links.preferences, "POST", "subscriptions.preferences"),
    ):
        path = url.removeprefix("https://hitwatch.example.org")
        try:
            endpoint, _ = adapter.match(path, method=method)
        except RequestRedirect:  # pragma: no cover - a redirect would mean a wrong path
            pytest.fail(f"{path} redirects")
        assert endpoint == wanted, (path, endpoint)


def test_the_scheduled_build_of_a_period_without_news_makes_no_draft(settings, database, caplog):
    from hitwatch.messages import DigestDue
    from hitwatch.store.models import DigestIssue
    from notifier.digests import DigestTasks

    caplog.set_level("INFO", logger="notifier.digests")
    DigestTasks(database, settings).build(DigestDue(kind="monthly").to_payload())
    with database.session() as session:
        assert session.query(DigestIssue).count() == 0
    assert "no relevant story in the period" in caplog.text
