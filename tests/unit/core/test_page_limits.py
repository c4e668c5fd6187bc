"""Size limits past the crawler: what reaches the classifier is bounded too."""

from __future__ import annotations


def test_a_page_over_the_limit_is_refused_while_it_inflates():
    """A crawled item's body is compressed: 50 MB of one letter is a few kB on the queue,
    so the limit must hold during decompression, not after."""
    from datetime import UTC, datetime

    import pytest

    from hitwatch.errors import ExtractionError
    from hitwatch.messages import CrawledItem

    huge = b"<p>" + b"a" * 50_000_000 + b"</p>"
    item = CrawledItem(
        item_id="x",
        url="https://example.org/a.html",
        final_url="https://example.org/a.html",
        source_id="bjnews",
        fetched_at=datetime(2024, 7, 1, tzinfo=UTC),
        body_z64=CrawledItem.pack_body(huge),
    )
    assert len(item.body_z64) < 200_000
    with pytest.raises(ExtractionError, match="MAX_PAGE_BYTES"):
        item.body_bytes(5_000_000)
    assert item.body_bytes(60_000_000) == huge
    assert item.body_bytes() == huge
