from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from classifier.extraction.cli import eval_extract_command, extract_command

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "extraction"


def test_extract_prints_the_article_as_json() -> None:
    page = FIXTURES / "province_policy_no_table.html"
    result = CliRunner().invoke(
        extract_command, [str(page), "http://xxgk.jl.gov.cn/szf/gkml/202203/t20220315_1.html"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["policy"]["doc_number"] == "吉政办发〔2022〕8号"
    assert "吉政办发〔2022〕8号" in result.output  # ensure_ascii=False


def test_extract_reports_a_non_page_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    result = CliRunner().invoke(extract_command, [str(empty)])
    assert result.exit_code == 1
    assert "empty response body" in result.output


def test_extract_says_a_wechat_article_was_removed(tmp_path: Path) -> None:
    page = tmp_path / "removed.html"
    page.write_text(
        '<html><body><h2 class="weui-msg__title">此内容因违规无法查看</h2></body></html>'
    )
    result = CliRunner().invoke(extract_command, [str(page), "https://mp.weixin.qq.com/s/x"])
    assert result.exit_code == 1
    assert "says 此内容因违规无法查看: its publisher removed the article" in result.output
    assert "Traceback" not in result.output


def test_eval_extract_without_corpus_says_what_to_pass(tmp_path: Path) -> None:
    result = CliRunner().invoke(eval_extract_command, ["--corpus", str(tmp_path)])
    assert result.exit_code == 1
    assert "--corpus PATH" in result.output


def test_eval_extract_lists_pages_worst_first(corpus: Path) -> None:
    result = CliRunner().invoke(eval_extract_command, ["--corpus", str(corpus), "--pages"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.startswith("pages/")]
    assert len(rows) >= 14
    cwced = [float(row[1]) for row in rows if row[0].startswith("pages/cwced/")]
    assert cwced == sorted(cwced)
