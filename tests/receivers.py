"""A local receiver that speaks each platform's documented request format, for tests.

One threaded HTTP server on 127.0.0.1 plays every platform, by path:

- `/cgi-bin/webhook/send?key=K` (企业微信 group robot): markdown message; answers
  `{"errcode": 0, "errmsg": "ok"}`;
- `/robot/send?access_token=T&timestamp=MS&sign=S` (钉钉 custom robot): checks the
  signature against `secret` (HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret,
  base64, urlencoded) and that the time is within an hour, as 钉钉 does (errcode 310000);
- `/open-apis/bot/v2/hook/H` (飞书 custom bot): checks `timestamp` and `sign` in the body
  (HMAC-SHA256 keyed by "timestamp\\nsecret" over nothing, base64), code 19021 when wrong;
- `/hooks/...` (generic webhook): checks `X-Hitwatch-Signature` over timestamp + "." + body.

The signatures are computed here from the platforms' documents, not with hitwatch's code.
`fail_with` queues HTTP statuses to answer first (e.g. [500, 500]); `received` keeps every
accepted message as (platform, parsed JSON, headers).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["Receiver"]


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


class Receiver:
    def __init__(self, secret: str = "SECtest-secret-0123456789") -> None:
        self.secret = secret
        self.received: list[tuple[str, dict, dict[str, str]]] = []
        self.refused: list[tuple[str, str]] = []
        self.fail_with: list[int] = []
        self.requests = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer = receiver.handle(self.path, body, dict(self.headers))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, kind: str) -> str:
        return {
            "wecom": f"{self.base}/cgi-bin/webhook/send?key=wecom-key-1234",
            "dingtalk": f"{self.base}/robot/send?access_token=ding-token-5678",
            "feishu": f"{self.base}/open-apis/bot/v2/hook/feishu-hook-9abc",
            "webhook": f"{self.base}/hooks/hitwatch",
        }[kind]

    def messages(self, platform: str) -> list[dict]:
        return [data for kind, data, _headers in self.received if kind == platform]

    def handle(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            self.requests += 1
            failing = self.fail_with.pop(0) if self.fail_with else None
        if self.delay:
            time.sleep(self.delay)
        if failing is not None:
            return failing, {"error": "injected"}
        parts = urlsplit(path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        data = json.loads(body)
        if parts.path == "/cgi-bin/webhook/send":
            return self._wecom(query, data, headers)
        if parts.path == "/robot/send":
            return self._dingtalk(query, data, headers)
        if parts.path.startswith("/open-apis/bot/v2/hook/"):
            return self._feishu(data, headers)
        if parts.path.startswith("/hooks/"):
            return self._webhook(body, data, headers)
        return 404, {"error": "no such path"}

    def _accept(self, platform: str, data: dict, headers: dict[str, str]) -> None:
        with self.lock:
            self.received.append((platform, data, headers))

    def _refuse(self, platform: str, why: str) -> None:
        with self.lock:
            self.refused.append((platform, why))

    def _wecom(self, query, data, headers):
        if not query.get("key"):
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        content = data.get("markdown", {}).get("content", "")
        if data.get("msgtype") != "markdown" or not content:
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if len(content.encode()) > 4096:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        self._accept("wecom", data, headers)
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _dingtalk(self, query, data, headers):
        timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
        expected = _b64_hmac(self.secret.encode(), f"{timestamp}\n{self.secret}".encode())
        # parse_qs has already url-decoded `sign` once, as 钉钉's server does.
        if not timestamp or abs(time.time() * 1000 - int(timestamp)) > 3600_000:
            self._refuse("dingtalk", "timestamp")
            return 200, {"errcode": 310000, "errmsg": "keywords not in content, timestamp invalid"}
        if not hmac.compare_digest(sign, expected):
            self._refuse("dingtalk", "sign")
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        markdown = data.get("markdown", {})
        if (
            data.get("msgtype") != "markdown"
            or not markdown.get("title")
            or not markdown.get("text")
        ):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 markdown"}
        self._accept("dingtalk", data, headers)
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _feishu(self, data, headers):
        timestamp, sign = str(data.get("timestamp", "")), data.get("sign", "")
        expected = _b64_hmac(f"{timestamp}\n{self.secret}".encode(), b"")
        if not timestamp or abs(time.time() - int(timestamp)) > 3600 or sign != expected:
            self._refuse("feishu", "sign")
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour from current time",
                "data": {},
            }
        if data.get("msg_type") != "interactive" or "card" not in data:
            return 200, {"code": 9499, "msg": "Bad Request", "data": {}}
        self._accept("feishu", data, headers)
        return 200, {"code": 0, "msg": "success", "data": {}}

    def _webhook(self, body, data, headers):
        timestamp = headers.get("X-Hitwatch-Timestamp", "")
        signature = headers.get("X-Hitwatch-Signature", "")
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(signature, expected) or not headers.get("X-Hitwatch-Delivery"):
            self._refuse("webhook", "signature")
            return 401, {"error": "bad signature"}
        self._accept("webhook", data, headers)
        return 200, {"ok": True}
