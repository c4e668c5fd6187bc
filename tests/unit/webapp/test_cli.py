from click.testing import CliRunner

from hitwatch.cli import main


def test_web_command_is_listed_and_documented() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["--help"])
    assert listing.exit_code == 0
    assert "web" in listing.output and "Serve the web app" in listing.output
    result = runner.invoke(main, ["web", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output
