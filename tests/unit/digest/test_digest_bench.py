"""The digest benchmark runs end to end and reports every figure."""

from hitwatch.digest.bench import run_digest_bench


def test_bench_reports_times_sizes_and_memory():
    figures = run_digest_bench(stories=30)
    assert figures["items"] == 30 and figures["problems"] == 0
    for name in ("select", "build_draft", "render_text", "render_html", "publish"):
        assert figures[f"{name}_seconds"] >= 0
    assert figures["html_chars"] > figures["text_chars"] > 0
    assert figures["peak_mib"] > 0


def test_delivery_bench_mails_every_subscriber_through_a_real_smtp_server():
    from hitwatch.digest.bench import run_delivery_bench

    result = run_delivery_bench(subscribers=5, stories=3)
    assert result["sent"] == result["received_by_smtp"] == 5
    assert result["failed"] == 0 and result["messages_per_second"] > 0
