"""Golden pages: imitation pages of each configured source in, expected JSON out.

Each `tests/fixtures/extraction/<case>.html` has a `<case>.json` holding the page URL and
the expected `Extraction.to_json()`. After a deliberate change, regenerate with
`HITWATCH_UPDATE_GOLDEN=1 pytest tests/unit/extraction/test_golden.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from classifier.extraction import extract_page
from classifier.extraction.dates import BEIJING
from hitwatch.sources import find_source, load_sources

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "extraction"
SOURCES = load_sources(FIXTURES / "sources")
CASES = sorted(path.stem for path in FIXTURES.glob("*.html"))
NOW = datetime(2024, 7, 15, 12, 0, tzinfo=BEIJING)


def extract_case(case: str) -> tuple[dict[str, object], dict[str, object]]:
    golden = json.loads((FIXTURES / f"{case}.json").read_text("utf-8"))
    url = golden["url"]
    # The fixture definitions, not the shipped ones: these tests pin the extractor, while
    # the shipped selectors may change with the sites.
    result = extract_page((FIXTURES / f"{case}.html").read_bytes(), url, sources=SOURCES, now=NOW)
    return golden, result.to_json()


@pytest.mark.parametrize("case", CASES)
def test_page_extracts_to_golden_json(case: str) -> None:
    golden, found = extract_case(case)
    if os.environ.get("HITWATCH_UPDATE_GOLDEN") == "1":
        golden["expected"] = found
        (FIXTURES / f"{case}.json").write_text(
            json.dumps(golden, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    expected = golden["expected"]
    assert {key: found[key] for key in expected} == expected


def test_every_configured_fixture_source_has_a_golden_page() -> None:
    urls = [json.loads((FIXTURES / f"{case}.json").read_text("utf-8"))["url"] for case in CASES]
    covered = {source.id for url in urls if (source := find_source(url, SOURCES)) is not None}
    assert covered == {source.id for source in SOURCES}
