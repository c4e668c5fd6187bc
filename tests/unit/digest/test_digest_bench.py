"""The digest benchmark runs end to end and reports every figure."""

from hitwatch.bench.digest import measure, run_delivery_bench, run_digest_bench


def test_bench_reports_times_sizes_and_memory_per_step():
    figures = run_digest_bench(stories=30)
    assert figures["items"] == 30 and figures["problems"] == 0
    steps = ("select", "build_draft", "render_text", "render_html", "render_docx", "publish")
    for name in (*steps, "render_pdf"):
        assert figures[f"{name}_seconds"] >= 0 and figures[f"{name}_cpu_ms"] >= 0
        assert figures[f"{name}_peak_mib"] > 0 and figures[f"{name}_extra_mib"] >= 0
    assert figures["html_size"] > figures["text_size"] > 0
    assert figures["docx_size"] > 0


def test_a_step_peak_is_its_own():
    small = measure(lambda: 1)
    big = measure(lambda: len(bytearray(200 * 2**20)))
    assert big.value == 200 * 2**20 and small.value == 1
    assert big.extra_mib > 190 > small.extra_mib


def test_delivery_bench_mails_every_subscriber_through_a_real_smtp_server():
    result = run_delivery_bench(subscribers=5, stories=3)
    assert result["sent"] == result["received_by_smtp"] == 5
    assert result["failed"] == 0 and result["messages_per_second"] > 0
    assert result["smtp_connections"] == 1 and result["renders"] == 1
    assert result["cpu_ms_per_message"] > 0 and result["sender_peak_mib"] > 0
