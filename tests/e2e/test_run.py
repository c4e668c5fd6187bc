"""README command 1 as a user runs it: `hitwatch run` on embedded defaults, demo crawl,
web app showing the items, Ctrl-C stopping everything."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.smtp import free_port

HITWATCH = str(Path(sys.executable).with_name("hitwatch"))


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _log_in_as_the_printed_admin(base: str, transcript: str) -> None:
    """The demo prints its admin's login; with it the admin pages open, without not."""
    login = re.search(r"log in as (\S+) with password (\S+)", transcript)
    assert login, f"the demo says how to log in:\n{transcript}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = opener.open(f"{base}/login", timeout=10).read().decode("utf-8")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = urlencode({"csrf_token": token, "email": login[1], "password": login[2]}).encode()
    with opener.open(f"{base}/login", data=data, timeout=10) as response:
        assert response.url == f"{base}/", "a good login lands on the home page"
    with opener.open(f"{base}/failures", timeout=10) as response:
        assert "失败记录" in response.read().decode("utf-8")
    # The demo catches mail: a subscription's confirmation is readable on the 邮件 page.
    form = opener.open(f"{base}/digests/subscribe", timeout=10).read().decode("utf-8")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = urlencode({"csrf_token": token, "email": "newcomer@example.org"}).encode()
    with opener.open(f"{base}/digests/subscribe", data=data, timeout=10) as response:
        assert "确认邮件已发出" in response.read().decode("utf-8")
    mailbox = opener.open(f"{base}/mail", timeout=10).read().decode("utf-8")
    assert "newcomer@example.org" in mailbox, mailbox
    with urllib.request.urlopen(f"{base}/failures", timeout=10) as response:
        assert "/login" in response.url, "an anonymous visitor is sent to log in"


def _wechat_items_and_their_story(base: str) -> None:
    """The demo's 公众号 shows its items; its reprint of a 新京报 article is one story
    with it, and the item page names the 新京报 copy 首发."""
    with urllib.request.urlopen(f"{base}/api/v1/items?all=1&per_page=100", timeout=10) as answer:
        items = json.load(answer)["items"]
    wechat = {item["title"]: item for item in items if item["source_id"] == "mp_yixin_demo"}
    assert "医院信息平台数据质量治理进入“深水区”" in wechat, items
    assert "某医院互联网医院上线一周年运行报告" not in wechat  # removed by its publisher
    reprint = next(item for title, item in wechat.items() if title.startswith("北京20家公立医院"))
    assert reprint["story_size"] == 2
    with urllib.request.urlopen(f"{base}/items/{reprint['doc_id']}", timeout=10) as answer:
        page = answer.read().decode("utf-8")
    first = page.index("首发")
    assert "新京报" in page[page.rindex("<li>", 0, first) : first], page


def test_run_demo_crawls_indexes_serves_and_stops_cleanly(tmp_path):
    # SMTP_PORT: where the demo's mail catcher listens
    names = ("EMBEDDED_REDIS_PORT", "WEB_PORT", "MIRROR_PORT", "SMTP_PORT")
    ports = {name: free_port() for name in names}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL", "ELASTICSEARCH_URL", "CRAWL_MODE"}
    }
    env.update({name: str(port) for name, port in ports.items()})
    env["HITWATCH_DATA_DIR"] = str(tmp_path / "data")
    process = subprocess.Popen(
        [HITWATCH, "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    indexed = None
    try:
        deadline = time.monotonic() + 240
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if match := re.search(r"first crawl indexed: (\d+) items, (\d+) failures", line):
                indexed = int(match.group(1))
                break
        transcript = "".join(output)
        assert indexed is not None, f"no end-of-crawl line within 240 s:\n{transcript}"
        assert indexed >= 10, transcript
        assert f"web app: http://127.0.0.1:{ports['WEB_PORT']}/" in transcript
        assert re.search(r"crawling\s+\| queued:", transcript), "progress lines are shown"

        base = f"http://127.0.0.1:{ports['WEB_PORT']}"
        with urllib.request.urlopen(f"{base}/api/v1/items?all=1", timeout=10) as response:
            assert json.load(response)["pagination"]["total"] == indexed
        with urllib.request.urlopen(f"{base}/api/v1/items", timeout=10) as response:
            relevant = json.load(response)["items"]
        assert relevant, "the demo sources carry health-IT news"
        with urllib.request.urlopen(f"{base}/", timeout=10) as page:
            home = page.read().decode("utf-8")
        assert relevant[0]["title"] in home, "the home page lists the newest relevant item"
        _wechat_items_and_their_story(base)
        _log_in_as_the_printed_admin(base, transcript)

        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 0, rest
        assert "stopped." in rest
        time.sleep(0.5)
        for name, port in ports.items():
            assert not _port_open(port), f"{name} {port} still open after Ctrl-C"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail("hitwatch run did not stop on Ctrl-C:\n" + "".join(output))
