"""Every real page in ../shared/corpus/pages extracts to a non-empty title and body.

One test per page, so a regression names the page. Without the corpus the single
placeholder case skips with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.extraction import extract_page
from tests.conftest import CORPUS, require_corpus

PAGES = sorted(
    p.relative_to(CORPUS / "pages").as_posix()
    for p in (CORPUS / "pages").rglob("*.html")
    if "_expected" not in p.name
)


@pytest.mark.parametrize("page", PAGES or ["(corpus absent)"])
def test_corpus_page_extracts_to_title_and_body(page: str) -> None:
    pages = require_corpus() / "pages"
    path: Path = pages / page
    result = extract_page(path.read_bytes(), "")
    assert result.title.strip(), f"{page}: empty title"
    assert result.body.strip(), f"{page}: empty body"
    assert len(result.body) > len(result.title), f"{page}: body shorter than its title"
