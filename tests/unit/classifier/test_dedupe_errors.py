"""A Redis that times out or is gone is a transient error: the task is retried, not failed."""

from typing import Any

import pytest
import redis

from classifier.dedupe import StoryRegistry
from hitwatch.errors import TransientError


class _FailingRedis:
    def __init__(self, error: Exception) -> None:
        self._error = error

    def register_script(self, _source: str) -> Any:
        def call(**_kwargs: Any) -> Any:
            raise self._error

        return call


@pytest.mark.parametrize(
    "error", [redis.TimeoutError("Timeout reading from socket"), redis.ConnectionError("refused")]
)
def test_unreachable_registry_is_transient(error: Exception) -> None:
    registry = StoryRegistry(_FailingRedis(error))  # type: ignore[arg-type]
    with pytest.raises(TransientError, match="dedupe registry unreachable"):
        registry.assign(
            doc_id="a", title="t", body="国家卫生健康委发布通知，推进全民健康信息平台建设。"
        )
