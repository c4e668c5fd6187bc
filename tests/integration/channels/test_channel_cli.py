"""`hitwatch alerts channels` and `hitwatch alerts test-channel ID` against the local
receiver, through the real command."""

from __future__ import annotations

from click.testing import CliRunner

from hitwatch.channels import HttpPoster, Vault, add_channel
from hitwatch.cli import main
from hitwatch.settings import load_settings
from hitwatch.store import open_database
from tests.receivers import Receiver


def test_test_channel_posts_a_sample_and_fails_loudly(tmp_path, monkeypatch):
    receiver = Receiver().start()
    try:
        env = {
            "HITWATCH_DATA_DIR": str(tmp_path / "data"),
            "CHANNEL_ALLOW_HTTP": "true",
            "CHANNEL_ALLOWED_HOSTS": "127.0.0.1",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()
        database = open_database(settings.resolved_database_url)
        database.migrate()
        vault = Vault(settings.secret_key.get_secret_value())
        made = add_channel(
            database, vault, HttpPoster.from_settings(settings), "team@example.org", "feishu",
            receiver.url("feishu"), name="运营群", secret=receiver.secret,
        )  # fmt: skip
        database.dispose()
        runner = CliRunner()
        listed = runner.invoke(main, ["alerts", "channels"], catch_exceptions=False)
        assert "feishu" in listed.output and "运营群" in listed.output
        assert "feishu-hook-9abc" not in listed.output  # the hook's key is not printed
        done = runner.invoke(main, ["alerts", "test-channel", str(made.id)], catch_exceptions=False)
        assert done.exit_code == 0, done.output
        assert "test message delivered (HTTP 200" in done.output
        [card] = receiver.messages("feishu")
        assert card["card"]["header"]["title"]["content"] == "hitwatch 测试消息"
        receiver.fail_with = [502]
        failed = runner.invoke(main, ["alerts", "test-channel", str(made.id)])
        assert failed.exit_code == 1 and "HTTP 502" in failed.output
        missing = runner.invoke(main, ["alerts", "test-channel", "999"])
        assert missing.exit_code == 1 and "does not exist" in missing.output
    finally:
        receiver.stop()
