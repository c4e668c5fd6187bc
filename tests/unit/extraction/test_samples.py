"""The benchmarks' generated pages are what they claim to be."""

import random

from classifier.extraction import extract_page
from classifier.extraction.samples import generic_page, real_page, synthetic_page


def test_the_synthetic_page_is_read_by_the_chinanews_site_rules() -> None:
    url, source_id, content_type, raw = synthetic_page(3, random.Random(1))
    found = extract_page(raw, url, content_type=content_type)
    assert source_id == "chinanews" and found.method == "site"
    assert found.published_at is not None and 400 <= len(found.body) <= 1000


def test_the_generic_page_falls_back_to_the_generic_extractor() -> None:
    url, _, content_type, raw = generic_page(3, random.Random(1))
    assert extract_page(raw, url, content_type=content_type).method == "fallback"


def test_real_pages_have_real_size_some_gbk_and_attachments() -> None:
    rng = random.Random(7)
    pages = [real_page(n, rng) for n in range(8)]
    assert all(30_000 <= len(raw) <= 120_000 for _, _, _, raw in pages)
    found = [extract_page(raw, url, content_type=ctype) for url, _, ctype, raw in pages]
    assert {f.method for f in found} == {"site", "fallback"}
    assert "gb18030" in {f.encoding for f in found}
    assert any(f.attachments for f in found)
    assert all(len(f.body) > 300 and "function" not in f.body for f in found)
