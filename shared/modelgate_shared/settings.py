"""Settings every service reads from its environment.

Names match what `make up` writes to `.local/stack.env`, so a service started by hand with
`set -a; . .local/stack.env` sees the same endpoints the stack started.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from modelgate_shared.env_values import CsvList
from modelgate_shared.kafka.security import KafkaAccess, SaslMechanism, SecurityProtocol


class ServiceSettings(BaseSettings):
    """The base of each service's settings; subclasses add what only they need."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, populate_by_name=True)

    service_name: str = "modelgate"
    environment: Literal["local", "test", "production"] = Field(
        "local", validation_alias="MODELGATE_ENVIRONMENT"
    )
    http_host: str = Field("127.0.0.1", validation_alias="MODELGATE_HTTP_HOST")
    http_port: int = Field(8080, validation_alias="MODELGATE_HTTP_PORT")
    http_header_timeout_s: float = Field(
        10.0, gt=0, validation_alias="MODELGATE_HTTP_HEADER_TIMEOUT_S"
    )
    """A connection must complete each request's headers within this long (from opening, or
    from the first byte of a next request), or it is closed: slow-header clients hold sockets."""
    http_idle_timeout_s: float = Field(5.0, gt=0, validation_alias="MODELGATE_HTTP_IDLE_TIMEOUT_S")
    """A kept-alive connection with no request in flight is closed after this long."""
    log_level: str = Field("INFO", validation_alias="MODELGATE_LOG_LEVEL")
    trace_sql_min_ms: float = Field(5.0, ge=0, validation_alias="MODELGATE_TRACE_SQL_MIN_MS")
    """With tracing on, SQL statements that took at least this long (or failed) get a span;
    0 records every statement. Tracing itself follows the standard OTEL_* variables.
    Our statements' median is under 1.5 ms even at full load, so 5 ms marks the slow ones."""
    span_processor: Literal["native", "sdk"] = Field(
        "native", validation_alias="MODELGATE_SPAN_PROCESSOR"
    )
    """How finished spans are batched, encoded and sent over OTLP/HTTP (same `OTEL_*`
    variables either way). `native`: fastotel's processor, which does that on a thread of its
    own in Rust, without the GIL (half the CPU per span in an in-process loop). `sdk`: the SDK's
    BatchSpanProcessor and OTLPSpanExporter, in Python, kept as the fallback because
    fastotel is young (pre-1.0)."""

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:19092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    kafka_security_protocol: SecurityProtocol = Field(
        "PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL"
    )
    """PLAINTEXT, SSL, SASL_PLAINTEXT (the local stack) or SASL_SSL (a Strimzi TLS listener)."""
    kafka_sasl_mechanism: SaslMechanism = Field(
        "SCRAM-SHA-512", validation_alias="KAFKA_SASL_MECHANISM"
    )
    kafka_sasl_username: str | None = Field(None, validation_alias="KAFKA_SASL_USERNAME")
    """This service's own Kafka principal (never another service's)."""
    kafka_sasl_password: SecretStr | None = Field(None, validation_alias="KAFKA_SASL_PASSWORD")
    kafka_ssl_cafile: Path | None = Field(None, validation_alias="KAFKA_SSL_CAFILE")
    """CA that signed the brokers' certificates (e.g. a Strimzi cluster CA)."""
    topic_prefix: str = Field(
        "",
        validation_alias="MODELGATE_TOPIC_PREFIX",
        description="Prepended to every topic name; lets test runs share a broker without "
        "sharing topics.",
    )
    database_url: SecretStr = Field(
        SecretStr("postgresql://modelgate@127.0.0.1:15432/modelgate"),
        validation_alias="DATABASE_URL",
    )
    """The service's own role: only its own schema, with only what it needs there
    (see modelgate_shared.db.access)."""
    database_owner_url: SecretStr | None = Field(None, validation_alias="DATABASE_OWNER_URL")
    """The schema owner (migrator). Unset (the least-privilege way): migrations ran before the
    service started, as a step of their own. Set (a one-person setup): the service applies its
    migrations at start as this role and grants its own role."""
    s3_endpoint_url: str = Field("http://127.0.0.1:19000", validation_alias="S3_ENDPOINT_URL")
    s3_access_key: SecretStr = Field(SecretStr(""), validation_alias="S3_ACCESS_KEY")
    s3_secret_key: SecretStr = Field(SecretStr(""), validation_alias="S3_SECRET_KEY")
    s3_region: str = Field("us-east-1", validation_alias="S3_REGION")
    s3_bucket: str = Field("modelgate", validation_alias="MODELGATE_S3_BUCKET")

    reference_buckets: CsvList = Field(
        default_factory=list, validation_alias="MODELGATE_REFERENCE_BUCKETS"
    )
    """Buckets, besides our own, that submissions may reference artifacts in."""
    pinned_bucket_name: str | None = Field(None, validation_alias="MODELGATE_PINNED_BUCKET")
    """Where the validator pins what it passed (default `<bucket>-pinned`): a bucket of its
    own, created with S3 Object Lock, since lock cannot be turned on for an existing bucket
    and the staging area need not keep every version of every upload."""

    @property
    def pinned_bucket(self) -> str:
        return self.pinned_bucket_name or f"{self.s3_bucket}-pinned"

    tokens_file: Path | None = Field(
        None,
        validation_alias=AliasChoices("MODELGATE_TOKENS_FILE"),
        description="JSON file of hashed bearer tokens (see modelgate_shared.auth.tokens).",
    )
    oidc_issuer: str | None = Field(None, validation_alias="MODELGATE_OIDC_ISSUER")
    """The OpenID Connect issuer whose access tokens are accepted (exactly its `iss`); unset:
    no OIDC sign-in, API keys and the token file only (docs/identity.md)."""
    oidc_discovery_url: str | None = Field(None, validation_alias="MODELGATE_OIDC_DISCOVERY_URL")
    """The discovery document's URL when the service reaches the provider by another name
    than the issuer's (compose, a cluster-internal Service); default: under the issuer."""
    oidc_audience: str | None = Field(None, validation_alias="MODELGATE_OIDC_AUDIENCE")
    """What a token's `aud` must contain (default: MODELGATE_OIDC_CLIENT_ID)."""
    oidc_client_id: str | None = Field(None, validation_alias="MODELGATE_OIDC_CLIENT_ID")
    """The public client the web catalog and the CLI sign in with."""
    oidc_roles_claim: str = Field("groups", validation_alias="MODELGATE_OIDC_ROLES_CLAIM")
    oidc_role_map: str = Field("", validation_alias="MODELGATE_OIDC_ROLE_MAP")
    """`group=role,...`: which of the roles claim's values grant which Modelgate role."""
    oidc_subject_claim: str = Field("sub", validation_alias="MODELGATE_OIDC_SUBJECT_CLAIM")
    """The claim that names the caller in audit entries and events (`sub`, or a user name
    such as `preferred_username` where the provider keeps it unique)."""
    oidc_algorithms: CsvList = Field(
        default_factory=lambda: ["RS256", "ES256", "PS256"],
        validation_alias="MODELGATE_OIDC_ALGORITHMS",
    )
    oidc_leeway_s: float = Field(30.0, ge=0, le=300, validation_alias="MODELGATE_OIDC_LEEWAY_S")
    oidc_jwks_min_refresh_s: float = Field(
        10.0, ge=0, validation_alias="MODELGATE_OIDC_JWKS_MIN_REFRESH_S"
    )
    """An unknown key id fetches the provider's key set again at most this often."""
    signing_key: Path | None = Field(None, validation_alias="MODELGATE_SIGNING_KEY")
    """This service's own Ed25519 private key (PEM): every event it publishes is signed with
    it (see modelgate_shared.signing). Without one its events are unsigned, and consumers
    dead-letter them."""
    trusted_keys: Path | None = Field(None, validation_alias="MODELGATE_TRUSTED_KEYS")
    """JSON file of the public keys whose events are handled, and what each may sign
    (see modelgate_shared.signing.trust); a service that consumes events needs it."""

    @property
    def kafka(self) -> KafkaAccess:
        """Where Kafka is and who this service is to it: what every Kafka client it makes uses."""
        password = self.kafka_sasl_password
        return KafkaAccess(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=password.get_secret_value() if password is not None else None,
            ssl_cafile=self.kafka_ssl_cafile,
        )
