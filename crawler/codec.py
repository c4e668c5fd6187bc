"""JSON codec of the shared request queue (scrapy-redis `SCHEDULER_SERIALIZER`).

scrapy-redis pickles queued requests by default: anyone able to write to the Redis could
then run code in every crawler process. Requests go through Redis as JSON instead. JSON
lacks bytes and non-string keys, which `Request.to_dict` produces (body, headers), so they
are tagged; anything else that is not plain data is refused when queued, not smuggled.
On the way out, a request may only be rebuilt as one of Scrapy's own request classes.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hitwatch.errors import PermanentError

__all__ = ["QueueCodecError", "dumps", "loads"]

_BYTES = "__bytes__"
_PAIRS = "__pairs__"
# `Request.to_dict` names the class of a subclassed request; `request_from_dict` imports
# and calls it, so only Scrapy's request classes are accepted from the queue.
_ALLOWED_CLASSES = frozenset(
    {
        "scrapy.http.request.Request",
        "scrapy.http.request.form.FormRequest",
        "scrapy.http.request.json_request.JsonRequest",
        "scrapy.http.request.rpc.XmlRpcRequest",
    }
)


class QueueCodecError(PermanentError):
    """A queued request that cannot be written or read as plain JSON data."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: _encode(item) for key, item in value.items()}
        return {_PAIRS: [[_encode(key), _encode(item)] for key, item in value.items()]}
    raise QueueCodecError(
        f"cannot queue a request holding a {type(value).__name__}: "
        "meta and cb_kwargs must be plain data (str, number, bool, None, bytes, list, dict)"
    )


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES], validate=True)
        if set(value) == {_PAIRS}:
            return {_decode(key): _decode(item) for key, item in value[_PAIRS]}
        return {key: _decode(item) for key, item in value.items()}
    return value


def dumps(request: dict[str, Any]) -> bytes:
    """A request dict (`Request.to_dict`) as UTF-8 JSON."""
    return json.dumps(_encode(request), ensure_ascii=False, separators=(",", ":")).encode()


def loads(raw: bytes | str) -> dict[str, Any]:
    """The request dict back; refuses anything but a dict naming an allowed request class."""
    try:
        data = _decode(json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise QueueCodecError(f"queued request is not valid JSON data: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        raise QueueCodecError("queued request is not a request dict with a url")
    request_class = data.get("_class")
    if request_class is not None and request_class not in _ALLOWED_CLASSES:
        raise QueueCodecError(f"queued request names a class that is not allowed: {request_class}")
    return data
