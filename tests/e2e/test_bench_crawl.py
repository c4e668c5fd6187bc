"""`hitwatch bench crawl` crawls its mirror and prints wall and CPU figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HITWATCH = str(Path(sys.executable).with_name("hitwatch"))


def test_bench_crawl_prints_pages_per_second_and_per_cpu_second() -> None:
    done = subprocess.run(
        [HITWATCH, "bench", "crawl", "--pages", "30"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    match = re.search(
        r"crawl bench: (\d+) pages \((\d+) articles\) in [\d.]+s = ([\d.]+) pages/s wall; "
        r"[\d.]+ CPU s \(crawler \+ mirror\) = ([\d.]+) pages per CPU second; (\d+) errors",
        done.stdout,
    )
    assert match, done.stdout
    pages, articles, wall, cpu, errors = match.groups()
    assert (int(pages), int(articles), int(errors)) == (31, 30, 0)
    assert float(wall) > 0 and float(cpu) > 0
