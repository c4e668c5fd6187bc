"""The soak runs docker-compose.yml's application services as local processes."""

from pathlib import Path

import click
import pytest

from hitwatch.bench.compose import (
    ComposeError,
    ComposeService,
    Endpoint,
    application_services,
    entrypoint,
    interpolate,
    load_compose,
    map_addresses,
    service_command,
)
from hitwatch.bench.soak import check_commands, container_mapping

REPO = Path(__file__).resolve().parents[3]
VARIABLES = {
    "POSTGRES_PASSWORD": "pg",
    "REDIS_PASSWORD": "rp",
    "ELASTIC_PASSWORD": "ep",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "2525",
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "SECRET_KEY": "k" * 64,
}
ENDPOINTS = {
    "postgres": Endpoint("u:p@127.0.0.1:5433", path="/soak"),
    "redis": Endpoint("127.0.0.1:6400", keep_credentials=True),
    "elasticsearch": Endpoint("127.0.0.1:9201"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${A}", "1"),
        ("$A-x", "1-x"),
        ("${MISSING:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY-fallback}", ""),
        ("${MISSING-fallback}", "fallback"),
        ("${A:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("$$HOME and $${A}", "$HOME and ${A}"),
        ('curl -u "elastic:$$ELASTIC_PASSWORD"', 'curl -u "elastic:$ELASTIC_PASSWORD"'),
    ],
)
def test_interpolation_follows_compose(text, expected):
    assert interpolate(text, {"A": "1", "EMPTY": ""}) == expected


def test_a_required_variable_that_is_missing_or_empty_stops_with_its_message():
    with pytest.raises(ComposeError, match="set SECRET_KEY"):
        interpolate("${SECRET_KEY:?set SECRET_KEY}", {"SECRET_KEY": ""})
    assert interpolate("${SECRET_KEY?unset}", {"SECRET_KEY": ""}) == ""


def test_compose_addresses_point_at_the_local_servers():
    assert (
        map_addresses("postgresql+psycopg://hitwatch:pg@postgres:5432/hitwatch", ENDPOINTS)
        == "postgresql+psycopg://u:p@127.0.0.1:5433/soak"
    )
    assert map_addresses("redis://:rp@redis:6379/0", ENDPOINTS) == "redis://:rp@127.0.0.1:6400/0"
    assert (
        map_addresses("http://elastic:ep@elasticsearch:9200", ENDPOINTS) == "http://127.0.0.1:9201"
    )
    assert map_addresses("https://news.example/x", ENDPOINTS) == "https://news.example/x"
    assert map_addresses("true", ENDPOINTS) == "true"


def test_every_application_service_of_the_compose_file_is_planned_in_start_order():
    compose = load_compose(REPO / "docker-compose.yml")
    services = application_services(compose, VARIABLES, ENDPOINTS)
    expected = {
        name
        for name, spec in compose["services"].items()
        if spec.get("image") == "hitwatch:latest" and not spec.get("profiles")
    }
    assert {s.name for s in services} == expected
    assert services[0].name == "migrate" and services[0].one_shot
    assert not any(s.one_shot for s in services[1:])
    worker = next(s for s in services if s.name == "indexer")
    assert worker.command == ("worker", "index", "--concurrency", "2")
    assert worker.environment["DATABASE_URL"] == "postgresql+psycopg://u:p@127.0.0.1:5433/soak"
    assert worker.environment["REDIS_URL"] == "redis://:rp@127.0.0.1:6400/0"
    assert worker.environment["SMTP_PORT"] == "2525"
    assert next(s for s in services if s.name == "web").environment["WEB_HOST"] == "0.0.0.0"
    check_commands(services)


def test_each_container_s_own_folders_and_metrics_port_become_local(tmp_path):
    compose = load_compose(REPO / "docker-compose.yml")
    services = application_services(compose, VARIABLES, ENDPOINTS)
    indexer, web = (next(s for s in services if s.name == name) for name in ("indexer", "web"))
    mapped = [container_mapping(service, tmp_path) for service in (indexer, web)]
    for service, local in zip((indexer, web), mapped, strict=True):
        for path in service.tmpfs:
            named = [k for k, v in service.environment.items() if v == path]
            assert all(Path(local[k]).is_dir() and str(tmp_path) in local[k] for k in named)
        if "METRICS_ADDRESS" in service.environment:
            assert local["METRICS_ADDRESS"].startswith("127.0.0.1:")
    assert mapped[0].get("METRICS_ADDRESS") != mapped[1].get("METRICS_ADDRESS")


def test_the_soak_refuses_a_compose_service_it_could_not_run():
    with pytest.raises(click.ClickException, match="hitwatch frobnicate"):
        check_commands([ComposeService("extra", ("frobnicate",), {})])


def test_redis_runs_with_the_compose_command_and_the_image_entrypoint_is_read():
    compose = load_compose(REPO / "docker-compose.yml")
    command = service_command(compose, "redis", VARIABLES)
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--requirepass") + 1] == "rp"
    assert entrypoint(REPO / "Dockerfile") == ("hitwatch",)


def test_a_missing_compose_variable_is_an_error_not_an_empty_setting():
    compose = load_compose(REPO / "docker-compose.yml")
    with pytest.raises(ComposeError, match="SECRET_KEY"):
        application_services(compose, {**VARIABLES, "SECRET_KEY": ""}, ENDPOINTS)
