"""The soak: docker-compose.yml's services as local processes, every item accounted for.

A small run on each index backend; `hitwatch bench soak --items 50000` is the long one
(README, Throughput). Redis is started by the soak itself with the compose file's command.
"""

from pathlib import Path

import pytest
import yaml

from hitwatch.bench.soak import SoakPlan, run_soak

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
ITEMS = 150


def _application_services() -> set[str]:
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text("utf-8"))["services"]
    return {
        name
        for name, spec in services.items()
        if spec.get("image") == "hitwatch:latest" and not spec.get("profiles")
    }


def _soak(backend: str, postgres_url: str, elasticsearch_url: str = "") -> None:
    lines: list[str] = []
    report = run_soak(
        SoakPlan(
            items=ITEMS,
            backend=backend,
            postgres_url=postgres_url,
            elasticsearch_url=elasticsearch_url,
            compose_file=REPO / "docker-compose.yml",
            dockerfile=REPO / "Dockerfile",
            timeout=900,
        ),
        echo=lines.append,
    )
    print("\n".join(lines))
    # Every application service of the compose file ran (one-shot migrate before them).
    assert set(report.services) == _application_services()
    long_running = _application_services() - {"migrate"}
    assert long_running <= set(report.peak_rss_mb), report.peak_rss_mb
    assert report.handed_over == ITEMS, "the crawler found every published article"
    assert report.ok, "\n".join(lines)
    assert report.failed >= 1, "the broken pages end as failure records"
    assert report.alert_mails > 0 and report.search_ms


def test_soak_on_fts5(postgres_url):
    _soak("fts5", postgres_url)


def test_soak_on_elasticsearch(postgres_url, elasticsearch_url):
    _soak("elasticsearch", postgres_url, elasticsearch_url)
