"""One typed settings object, read from the environment at each service's edge.

Every field names its environment variable, has a default and a one-line description;
`.env.example` and the README's table are checked against this class by a test.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hitwatch.secret_key import embedded_secret_key

__all__ = ["Settings", "env_example", "load_settings"]


class Settings(BaseSettings):
    """hitwatch configuration. Field descriptions feed `.env.example` and the README."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    data_dir: Path = Field(
        Path("var"),
        validation_alias="HITWATCH_DATA_DIR",
        description="Folder for the embedded stores (SQLite database, FTS5 index, Redis).",
    )
    database_url: str = Field(
        "",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL of the store of record; empty means SQLite in the data dir.",
    )
    redis_url: str = Field(
        "",
        validation_alias="REDIS_URL",
        description="Redis for queues, crawl state and dedupe; empty starts an embedded Redis.",
    )
    embedded_redis_port: int = Field(
        6390,
        validation_alias="EMBEDDED_REDIS_PORT",
        description="Port of the embedded Redis started when REDIS_URL is empty.",
    )
    elasticsearch_url: str = Field(
        "",
        validation_alias="ELASTICSEARCH_URL",
        description="Elasticsearch node(s), comma-separated; empty uses the embedded FTS5 index.",
    )
    elasticsearch_index: str = Field(
        "hitwatch-documents",
        validation_alias="ELASTICSEARCH_INDEX",
        description="Alias that the Elasticsearch search index is reached through.",
    )
    elasticsearch_shards: int = Field(
        1,
        ge=1,
        validation_alias="ELASTICSEARCH_SHARDS",
        description="Primary shards of a new Elasticsearch index: searched in parallel, one"
        " per core or node; fixed once the index exists.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias="LOG_LEVEL", description="Log level of every service."
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        validation_alias="LOG_FORMAT",
        description="text: readable lines; json: one JSON object a line (each task outcome "
        "with its item, stage, duration and result).",
    )
    task_max_retries: int = Field(
        5,
        validation_alias="TASK_MAX_RETRIES",
        description="Retries of a task after a transient error before it is recorded as failed.",
    )
    task_retry_backoff_max: int = Field(
        300,
        validation_alias="TASK_RETRY_BACKOFF_MAX",
        description="Longest wait between two retries of a task, in seconds.",
    )
    broker_visibility_timeout: int = Field(
        0,
        ge=0,
        validation_alias="BROKER_VISIBILITY_TIMEOUT",
        description="Seconds after which a task taken by a worker that died is delivered again; "
        "0: sized to the longest hold of a message, 60 s more than TASK_RETRY_BACKOFF_MAX + "
        "EXTRACTION_TIME_LIMIT and than either claim timeout (420 s by default).",
    )
    worker_concurrency: int = Field(
        2,
        validation_alias="WORKER_CONCURRENCY",
        description="Processes per Celery worker; add workers on more machines to scale out.",
    )
    batch_size: int = Field(
        50,
        ge=1,
        validation_alias="BATCH_SIZE",
        description="Most messages the classify, index and notify workers take as one batch"
        " (one store transaction, one search bulk request).",
    )
    batch_wait_ms: int = Field(
        200,
        ge=0,
        validation_alias="BATCH_WAIT_MS",
        description="Milliseconds a batch waits for more messages after its first before it is"
        " processed anyway, so a single item is not held back.",
    )
    web_host: str = Field(
        "127.0.0.1", validation_alias="WEB_HOST", description="Address the web app listens on."
    )
    web_port: int = Field(8000, validation_alias="WEB_PORT", description="Port of the web app.")
    public_base_url: str = Field(
        "",
        validation_alias="PUBLIC_BASE_URL",
        description="Base URL used in links sent by e-mail; empty means http://WEB_HOST:WEB_PORT.",
    )
    secret_key: SecretStr = Field(
        SecretStr(""),
        validation_alias="SECRET_KEY",
        description="Signs sessions and link tokens: 32+ random characters. Empty: the embedded"
        " demo keeps a generated one in the data dir; with REDIS_URL or DATABASE_URL set, the web"
        " app and workers refuse to start.",
    )
    read_access: Literal["public", "login"] = Field(
        "public",
        validation_alias="READ_ACCESS",
        description="public: anyone may search and read; login: reading needs an account "
        "(the JSON API and Atom feeds then take a personal API token).",
    )
    session_idle_minutes: int = Field(
        120,
        gt=0,
        validation_alias="SESSION_IDLE_MINUTES",
        description="A login ends after this many minutes without a request.",
    )
    session_max_hours: int = Field(
        12,
        gt=0,
        validation_alias="SESSION_MAX_HOURS",
        description="A login ends this many hours after it began, however active.",
    )
    crawl_mode: Literal["demo", "live"] = Field(
        "demo",
        validation_alias="CRAWL_MODE",
        description="demo crawls the bundled mirror site; live crawls the real sources.",
    )
    mirror_port: int = Field(
        8765,
        validation_alias="MIRROR_PORT",
        description="Port of the bundled mirror site served in demo mode.",
    )
    crawler_contact: str = Field(
        "hitwatch-crawler@example.org",
        validation_alias="CRAWLER_CONTACT",
        description="Contact put in the crawler's User-Agent so site owners can reach us.",
    )
    wechat_bridge_url: str = Field(
        "",
        validation_alias="WECHAT_BRIDGE_URL",
        description=(
            "Feed of all accounts of a WeChat bridge (wewe-rss: http://host:4000/feeds/all.atom,"
            " we-mp-rss: http://host:8001/rss): enables the bundled health-IT 公众号, each"
            " reading its own entries from it. Empty: off."
        ),
    )
    wechat_stale_days: int = Field(
        7,
        gt=0,
        validation_alias="WECHAT_STALE_DAYS",
        description=(
            "Days without a new article after which a bundled 公众号 source is broken (its own"
            " `wechat.stale_after_days` for one defined in a YAML file)."
        ),
    )
    crawler_seen_ttl_days: int = Field(
        90,
        gt=0,
        validation_alias="CRAWLER_SEEN_TTL_DAYS",
        description=(
            "Days an article URL stays in the crawler's seen set after it was last handed "
            "over or last listed; then it is forgotten (bounds the state in Redis)."
        ),
    )
    dedupe_window_days: float = Field(
        90,
        gt=0,
        validation_alias="DEDUPE_WINDOW_DAYS",
        description=(
            "Days a story stays a near-duplicate candidate after its latest copy arrived; then"
            " it leaves the LSH index (bounds dedupe memory in Redis), and only exact copies"
            " (same content hash) still join it."
        ),
    )
    fetch_allow_private: bool = Field(
        False,
        validation_alias="FETCH_ALLOW_PRIVATE",
        description="Let the crawler fetch loopback, private and link-local addresses (off: a"
        " URL or redirect to one is refused).",
    )
    fetch_allowed_hosts: str = Field(
        "",
        validation_alias="FETCH_ALLOWED_HOSTS",
        description="Comma-separated host names (or addresses) fetched even when they resolve to"
        " a private address, e.g. an intranet source.",
    )
    max_page_bytes: int = Field(
        5_000_000,
        validation_alias="MAX_PAGE_BYTES",
        description="Pages larger than this are refused and recorded as failures.",
    )
    extraction_time_limit: float = Field(
        60.0,
        ge=0,
        validation_alias="EXTRACTION_TIME_LIMIT",
        description="Seconds one page's extraction may take in a classifier worker before "
        "it stops as a failure record (0: no limit), so one page cannot hold the queue.",
    )
    smtp_host: str = Field(
        "127.0.0.1", validation_alias="SMTP_HOST", description="SMTP server for digests and alerts."
    )
    smtp_port: int = Field(1025, validation_alias="SMTP_PORT", description="SMTP server port.")
    smtp_user: str = Field("", validation_alias="SMTP_USER", description="SMTP login; empty: none.")
    smtp_password: SecretStr = Field(
        SecretStr(""), validation_alias="SMTP_PASSWORD", description="SMTP password."
    )
    smtp_starttls: bool = Field(
        False, validation_alias="SMTP_STARTTLS", description="Use STARTTLS on the SMTP connection."
    )
    mail_from: str = Field(
        "hitwatch <digest@localhost>",
        validation_alias="MAIL_FROM",
        description="From address of digests and alerts.",
    )
    mail_catcher: bool = Field(
        False,
        validation_alias="MAIL_CATCHER",
        description="Demo: outgoing mail goes to the local mail catcher (hitwatch mailcatcher, "
        "started by hitwatch run on embedded defaults) and admins read it on the 邮件 page.",
    )
    digest_publisher: str = Field(
        "卫生信息化监测",
        validation_alias="DIGEST_PUBLISHER",
        description="Publisher named in the digest masthead; empty leaves the masthead out.",
    )
    digest_monthly_word: str = Field(
        "月报",
        validation_alias="DIGEST_MONTHLY_WORD",
        description="What the digest calls itself for a calendar month (July 2024 said 周报).",
    )
    digest_weekly_word: str = Field(
        "周报",
        validation_alias="DIGEST_WEEKLY_WORD",
        description="What the digest calls itself for a week.",
    )
    digest_custom_word: str = Field(
        "专报",
        validation_alias="DIGEST_CUSTOM_WORD",
        description="What the digest calls itself for a custom date range.",
    )
    digest_topic_scope: str = Field(
        "卫生信息化相关信息",
        validation_alias="DIGEST_TOPIC_SCOPE",
        description="What the digest lead says was collected (本期…共收集 N篇<this>).",
    )
    digest_monitoring_scope: str = Field(
        "全国主流媒体及政府网站等",
        validation_alias="DIGEST_MONITORING_SCOPE",
        description="What the digest lead says was monitored (监测范围包括<this>).",
    )
    digest_first_number: int = Field(
        1,
        validation_alias="DIGEST_FIRST_NUMBER",
        description="Number of the first published digest of each kind (continue a paper series).",
    )
    digest_send_claim_timeout: int = Field(
        300,
        validation_alias="DIGEST_SEND_CLAIM_TIMEOUT",
        description="Seconds after which a digest send claimed by a worker that died is "
        "claimed again (and sent with the same Message-ID).",
    )
    digest_sections: str = Field(
        "",
        validation_alias="DIGEST_SECTIONS",
        description="Digest sections by document type, e.g. 政策动态=政策文件,政策解读;行业动态=*; "
        "国家政策落实 stands for local documents implementing a national policy; empty: one list.",
    )
    prometheus_multiproc_dir: str = Field(
        "",
        validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="Folder where every hitwatch process of this host keeps its metrics, so "
        "/metrics adds up the web app and all workers; set it in their environment before "
        "they start. Empty: each process serves only its own.",
    )
    metrics_address: str = Field(
        "",
        validation_alias="METRICS_ADDRESS",
        description="host:port where hitwatch web and hitwatch worker also serve /metrics "
        "without login, for a Prometheus on a private network (the first process to bind "
        "serves the host's metrics); empty: only the web app's /metrics, for admins.",
    )
    alert_claim_timeout: int = Field(
        300,
        validation_alias="ALERT_CLAIM_TIMEOUT",
        description="Seconds after which an alert mail claimed by a dead worker is sent again; "
        "keep it below BROKER_VISIBILITY_TIMEOUT.",
    )

    channel_allow_http: bool = Field(
        False,
        validation_alias="CHANNEL_ALLOW_HTTP",
        description="Let alert channels (企业微信, 钉钉, 飞书, webhooks) post to http:// URLs "
        "(off: https only).",
    )
    channel_allowed_hosts: str = Field(
        "",
        validation_alias="CHANNEL_ALLOWED_HOSTS",
        description="Comma-separated host names (or addresses) channels may post to even when "
        "they resolve to a loopback, private or link-local address, e.g. an intranet webhook.",
    )
    channel_timeout: float = Field(
        10.0,
        gt=0,
        validation_alias="CHANNEL_TIMEOUT",
        description="Seconds a channel post may take to connect and to answer.",
    )
    channel_max_response_bytes: int = Field(
        65536,
        gt=0,
        validation_alias="CHANNEL_MAX_RESPONSE_BYTES",
        description="Bytes of a channel's answer that are read; the rest is not.",
    )
    channel_pause_after: int = Field(
        5,
        ge=1,
        validation_alias="CHANNEL_PAUSE_AFTER",
        description="Failed posts in a row after which a channel is paused and its owner "
        "told by e-mail.",
    )

    @field_validator("metrics_address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value:
            _host, colon, port = value.rpartition(":")
            if not colon or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(
                    f"METRICS_ADDRESS must be host:port, e.g. 127.0.0.1:9464, not {value!r}"
                )
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'hitwatch.db'}"

    @property
    def resolved_visibility_timeout(self) -> int:
        """BROKER_VISIBILITY_TIMEOUT, or the longest a live worker holds a message unacknowledged,
        plus a margin: a retry waits up to TASK_RETRY_BACKOFF_MAX in the worker that took it,
        then runs (a page's extraction up to EXTRACTION_TIME_LIMIT); a message redelivered
        sooner would run twice at once. Past either claim timeout, so that a dead worker's
        redelivered alert or digest finds its claims stale and sends them."""
        if self.broker_visibility_timeout:
            return self.broker_visibility_timeout
        task = self.task_retry_backoff_max + math.ceil(self.extraction_time_limit or 60)
        return max(task, self.alert_claim_timeout, self.digest_send_claim_timeout) + 60

    @property
    def resolved_redis_url(self) -> str:
        return self.redis_url or f"redis://127.0.0.1:{self.embedded_redis_port}/0"

    @property
    def fetch_allowed_host_set(self) -> frozenset[str]:
        hosts = (
            host.strip().strip("[]").rstrip(".").lower()
            for host in self.fetch_allowed_hosts.split(",")
        )
        return frozenset(host for host in hosts if host)

    @property
    def channel_allowed_host_set(self) -> frozenset[str]:
        hosts = (
            host.strip().strip("[]").rstrip(".").lower()
            for host in self.channel_allowed_hosts.split(",")
        )
        return frozenset(host for host in hosts if host)

    @property
    def embedded(self) -> bool:
        """The one-machine demo: neither REDIS_URL nor DATABASE_URL names a server."""
        return not self.redis_url and not self.database_url

    @property
    def metrics_dir(self) -> Path | None:
        return Path(self.prometheus_multiproc_dir) if self.prometheus_multiproc_dir else None

    @property
    def metrics_bind(self) -> tuple[str, int] | None:
        """METRICS_ADDRESS as (host, port), or None when it is empty."""
        if not self.metrics_address:
            return None
        host, _, port = self.metrics_address.rpartition(":")
        return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 (the operator asked)

    @property
    def fts_path(self) -> Path:
        return self.data_dir / "search.db"

    @property
    def resolved_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    def masked(self) -> dict[str, str]:
        """Settings as printable strings, with secrets and URL passwords hidden."""
        out: dict[str, str] = {}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            text = "********" if isinstance(value, SecretStr) and value else str(value)
            if "://" in text and "@" in text:
                scheme, rest = text.split("://", 1)
                creds, host = rest.rsplit("@", 1)
                text = f"{scheme}://{creds.split(':', 1)[0]}:********@{host}"
            out[str(info.validation_alias)] = text
        return out


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; keyword overrides win (tests, CLI flags).

    The embedded demo without a SECRET_KEY gets the one kept in its data dir (made on first
    use), so every process of the demo signs with the same key.
    """
    settings = Settings(**overrides)
    if settings.embedded and not settings.secret_key.get_secret_value():
        key = SecretStr(embedded_secret_key(settings.data_dir))
        settings = settings.model_copy(update={"secret_key": key})
    return settings


def env_example() -> str:
    """The text of `.env.example`: every setting with its description and default."""
    lines = [
        "# hitwatch settings. Every variable is optional: the defaults run the embedded product.",
        "# Regenerate with `hitwatch settings --env-example > .env.example`.",
        "",
    ]
    for info in Settings.model_fields.values():
        default = info.default
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        elif isinstance(default, Path):
            default = default.as_posix()
        elif isinstance(default, bool):
            default = str(default).lower()
        text = str(default)
        if any(char in text for char in " <>#'"):
            text = f'"{text}"'
        lines += [f"# {info.description}", f"{info.validation_alias}={text}", ""]
    return "\n".join(lines)
