"""Configuration. The only module that reads the environment (``TRADELOOM_*`` variables)."""

import base64
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting the platform reads; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="TRADELOOM_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset ⇒ embedded PostgreSQL in <data_dir>/pg"
    )
    redis_url: str | None = Field(default=None, description="Redis URL; unset ⇒ embedded Redis in <data_dir>/redis")
    secret_key: SecretStr | None = Field(
        default=None,
        description="signs JWTs and CSRF tokens; unset ⇒ a random key kept in <data_dir>/secret.key (not production)",
    )
    data_dir: Path = Field(default=PROJECT_ROOT / "var", description="embedded servers, uploads, metrics")
    public_base_url: str = Field(default="http://127.0.0.1:8000", description="absolute links, QR targets")
    default_locale: str = Field(default="zh_CN", description="zh_CN or en")
    environment: str = Field(default="development", description="development | production | test")
    log_level: str = "INFO"
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    web_session_hours: int = Field(default=12, ge=1, le=24 * 30)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, description="larger request bodies ⇒ 413")
    bulk_max_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="limit for /api/v1/bulk bodies (up to 10,000 records)"
    )
    file_upload_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024,
        description="limit for file uploads (material attachments, fapiao files, goods-receipt photos)",
    )
    search_url: str | None = Field(
        default=None, description="OpenSearch URL for catalogue search; unset ⇒ PostgreSQL full-text search"
    )
    search_index: str = Field(default="tradeloom-materials", description="OpenSearch index of the catalogue")
    storage_url: str | None = Field(
        default=None, description="attachment store: unset ⇒ files under <data_dir>/attachments; "
        "s3://bucket[/prefix]?endpoint=https://host&region=…&presign=<seconds> ⇒ an S3-compatible store",
    )
    storage_access_key_id: str | None = Field(default=None, description="S3 access key (unset ⇒ boto3's own chain)")
    storage_secret_access_key: SecretStr | None = Field(default=None, description="S3 secret key")
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    outbox_batch_size: int = Field(default=200, ge=1, le=10_000)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list, description='JSON list of hosts webhooks may reach although they are internal'
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    connector_allowed_hosts: list[str] = Field(
        default_factory=list, description="JSON list of internal hosts ERP connectors may call (on-premises ERPs)"
    )
    connector_timeout_seconds: float = Field(default=30.0, gt=0, le=300, description="per ERP call")
    connector_retry_seconds: float = Field(default=2.0, ge=0, description="first retry delay of an ERP call")
    platform_gs1_prefix: str = Field(
        default="0200000", pattern=r"^\d{6,12}$",
        description="company prefix of SSCCs for suppliers without their own GS1 prefix; the default is in GS1's "
        "restricted-circulation range (02): unique on this platform only — set a licensed prefix in production",
    )
    secrets_key: SecretStr | None = Field(
        default=None,
        description="AES-256-GCM keys for stored secrets (connector credentials): 'kid:base64key[,kid:base64key…]', "
        "the first encrypts, all decrypt (rotation); unset ⇒ one made once and kept in <data_dir>/secrets.key "
        "(not production)",
    )
    test_database_url: str | None = Field(default=None, description="tests only: server for per-worker databases")
    test_redis_url: str | None = Field(default=None, description="tests only: Redis server")
    test_mqtt_url: str | None = Field(default=None, description="tests only: MQTT broker (unset ⇒ embedded amqtt)")
    prometheus_multiproc_dir: str | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="set by `tradeloom serve` so /metrics sums all gunicorn workers",
    )
    handle_prefix: str = Field(
        default="88.118.8866", pattern=r"^\d+(\.\d+)+$",
        description="enterprise prefix (IDIS/Handle) under which identifiers are registered",
    )
    idis_node_url: str | None = Field(default=None, description="IDIS secondary node (二级节点) REST API base URL")
    idis_node_token: SecretStr | None = Field(default=None, description="bearer token issued by the secondary node")
    chromium_path: str = Field(default="/usr/bin/chromium", description="browser used by page tests")
    ledger_anchor_backend: Literal["none", "fabric"] = Field(
        default="none", description="where signed checkpoints are anchored: nowhere, or a Fabric channel"
    )
    fabric_gateway_address: str | None = Field(default=None, description="Fabric Gateway peer, host:port")
    fabric_tls_ca_cert_path: Path | None = Field(
        default=None, description="PEM CA of the peer's TLS certificate; unset ⇒ plaintext (local tests only)"
    )
    fabric_tls_server_name: str | None = Field(
        default=None, description="host name expected in the peer's TLS certificate, if not the address's"
    )
    fabric_msp_id: str | None = Field(default=None, description="our organization's MSP id, e.g. Org1MSP")
    fabric_cert_path: Path | None = Field(default=None, description="PEM X.509 certificate of our client identity")
    fabric_key_path: Path | None = Field(default=None, description="PEM ECDSA P-256 private key of that identity")
    fabric_channel: str = Field(default="tradeloom", description="channel holding the anchoring chaincode")
    fabric_chaincode: str = Field(default="checkpoint-anchors", description="name the chaincode was committed as")
    fabric_call_timeout_seconds: float = Field(default=30, gt=0, description="Endorse, Submit and Evaluate")
    fabric_commit_timeout_seconds: float = Field(default=120, gt=0, description="wait for the commit status")
    ledger_signing_key: SecretStr | None = Field(
        default=None,
        description="the evidence log's Ed25519 signer key (PRIVATE+KEY+<name>+<id>+<base64>); unset ⇒ one made "
        "once and kept in <data_dir>/ledger-signing.key (not production)",
    )
    ledger_origin: str | None = Field(
        default=None, description="the evidence log's origin line; unset ⇒ <public_base_url host>/ledger"
    )
    ledger_batch_size: int = Field(default=5000, ge=1, le=100_000, description="entries per sequenced checkpoint")
    ledger_poll_seconds: float = Field(default=1.0, gt=0, description="sequencer pause when nothing is waiting")
    mqtt_url: str | None = Field(
        default=None, description="MQTT broker, mqtt://[user:password@]host:port; unset ⇒ embedded broker (make run)"
    )
    iot_host_id: str = Field(
        default="tradeloom", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Sparkplug host application id (its STATE topic) and MQTT client id stem of the bridge",
    )
    iot_shards: int = Field(default=4, ge=1, le=64, description="bridge workers; each owns a set of edge nodes")
    iot_batch_rows: int = Field(default=2000, ge=1, le=100_000, description="telemetry rows per COPY")
    iot_flush_seconds: float = Field(default=0.2, gt=0, le=10, description="longest wait before a COPY")
    iot_reorder_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300,
        description="how long a Sparkplug message waits for a missing predecessor before it goes on as a seq gap",
    )
    iot_telemetry_retention_days: int = Field(default=30, ge=1, description="older day partitions are dropped")

    stripe_api_base: str = Field(
        default="https://api.stripe.com", description="Stripe API base URL (the local stand-in in tests and demos)"
    )
    stripe_secret_key: SecretStr | None = Field(default=None, description="Stripe secret key; unset ⇒ no card payments")
    stripe_webhook_secret: SecretStr | None = Field(
        default=None, description="signing secret (whsec_…) of the Stripe webhook endpoint /api/v1/stripe/webhook"
    )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def ledger_log_origin(self) -> str:
        """The log's name in its checkpoints: configured, else the public host + ``/ledger``."""
        return self.ledger_origin or f"{urlsplit(self.public_base_url).hostname or 'localhost'}/ledger"

    def signing_secret(self) -> str:
        """The configured key, or (outside production) one made once and kept in the data dir."""
        return self._configured_or_kept(
            self.secret_key, "SECRET_KEY", "secret.key", lambda: secrets.token_urlsafe(48)
        )

    def secrets_keyring(self) -> str:
        """The configured secrets keys, or (outside production) one made once and kept in the data dir."""
        return self._configured_or_kept(
            self.secrets_key, "SECRETS_KEY", "secrets.key",
            lambda: "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        )

    def ledger_signer_key(self, generate: Callable[[str], str]) -> str:
        """The log's signer key, or (outside production) ``generate(origin)`` made once and kept in the data dir.

        The ledger passes its key generator in: the kit imports no domain package.
        """
        return self._configured_or_kept(
            self.ledger_signing_key, "LEDGER_SIGNING_KEY", "ledger-signing.key",
            lambda: generate(self.ledger_log_origin),
        )

    def _configured_or_kept(
        self, configured: SecretStr | None, variable: str, file_name: str, make: Callable[[], str]
    ) -> str:
        if configured is not None:
            return configured.get_secret_value()
        if self.is_production:
            raise RuntimeError(f"TRADELOOM_{variable} must be set in production")
        key_file = self.data_dir / file_name
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(make())
            key_file.chmod(0o600)
        return key_file.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
