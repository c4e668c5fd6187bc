"""The near-duplicate window's inputs: the setting, the clock and the bucket records the
script keeps under a story (its behaviour on Redis: tests/integration)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from classifier.bench import steady_state_gb
from classifier.dedupe import (
    DEFAULT_WINDOW_DAYS,
    StoryRegistry,
    bucket_ids,
    bucket_record,
    fingerprint,
)
from hitwatch.settings import Settings

BODY = "国家卫生健康委发布通知，推进全民健康信息平台建设，完善电子病历数据标准和互认共享。" * 3


class _RecordingRedis:
    """Keeps the script calls instead of running them."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def register_script(self, _source: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append(kwargs)
            return [b"new", b"story", b"doc", b"0", b"", b"", b""]

        return call


def test_bucket_record_is_band_shard_and_bucket_in_nine_bytes() -> None:
    fp = fingerprint(BODY)
    for band, shard, bucket in bucket_ids(fp.signature):
        record = bucket_record(band, shard, bucket)
        # What the script decodes: byte 1 the band, bytes 2-3 the shard, then the bucket.
        assert len(record) == 9
        assert record[0] == band and record[1] * 256 + record[2] == shard
        assert record[3:] == bucket


def test_the_script_gets_the_clock_and_the_window() -> None:
    fake = _RecordingRedis()
    registry = StoryRegistry(fake, namespace="n", window_days=2.5, clock=lambda: 1234.5)  # type: ignore[arg-type]
    registry.assign(doc_id="a", title="t", body=BODY)
    keys, args = fake.calls[0]["keys"], fake.calls[0]["args"]
    assert keys[3] == "n:dedupe:window"
    assert float(args[16]) == 1234.5 and float(args[17]) == 2.5 * 86400
    buckets = bucket_ids(fingerprint(BODY).signature)
    assert args[19:] == [bucket_record(*bucket) for bucket in buckets]
    assert keys[4:] == [f"n:dedupe:lsh:{band}:{shard}" for band, shard, _ in buckets]


@pytest.mark.parametrize("days", [0, -1])
def test_a_window_must_be_positive(days: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        StoryRegistry(_RecordingRedis(), window_days=days)  # type: ignore[arg-type]


def test_the_setting_defaults_to_the_registry_default_and_refuses_zero() -> None:
    assert Settings().dedupe_window_days == DEFAULT_WINDOW_DAYS
    assert Settings(DEDUPE_WINDOW_DAYS="14").dedupe_window_days == 14  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(DEDUPE_WINDOW_DAYS="0")  # type: ignore[call-arg]


def test_steady_state_counts_the_window_once_and_every_item_of_the_year() -> None:
    mb = 2**20
    row = {"redis_mb_per_100k_stories": 200.0, "kept_mb_per_100k_stories": 50.0}
    steady = steady_state_gb(row, 90)
    assert steady["window_stories"] == 4_500_000
    near, kept = 150 * mb / 100_000, 50 * mb / 100_000  # bytes per story
    assert steady["window_gb"] == round(4_500_000 * near / 2**30, 1)
    assert steady["exact_gb"] == round(365 * 50_000 * kept / 2**30, 1)
    assert steady["without_window_gb"] == round(365 * 50_000 * 200 * mb / 100_000 / 2**30, 1)
    # A window longer than the year holds the whole year.
    assert steady_state_gb(row, 1000)["window_stories"] == 365 * 50_000
