"""How a Kafka client reaches the broker and proves who it is: one description, applied to
every client a process makes (the FastStream broker, admin clients, direct consumers and
producers), so none of them can connect with less than the others.

The local stack and the compose file use SASL_PLAINTEXT with SCRAM-SHA-512 on loopback or a
private network; a Strimzi cluster's TLS listener is SASL_SSL (or SSL for mTLS) with the
cluster CA in `KAFKA_SSL_CAFILE`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

_SASL_SECURITY: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


class KafkaSecurityError(ValueError):
    """The security settings contradict each other (e.g. SASL without a username)."""


@dataclass(frozen=True, kw_only=True)
class KafkaAccess:
    """A broker address and the credentials of one principal on it."""

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = None
    ssl_cafile: Path | None = None
    """CA bundle that signed the broker's certificate (SSL and SASL_SSL); none: the system's."""

    def __post_init__(self) -> None:
        if self.uses_sasl and not (self.username and self.password):
            raise KafkaSecurityError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs KAFKA_SASL_USERNAME "
                "and KAFKA_SASL_PASSWORD"
            )

    def __repr__(self) -> str:  # the password must never reach a log line
        return (
            f"KafkaAccess({self.bootstrap_servers!r}, {self.security_protocol}, "
            f"user={self.username!r})"
        )

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def as_user(self, username: str, password: str) -> KafkaAccess:
        """The same broker, as another SASL principal."""
        protocol: SecurityProtocol = "SASL_SSL" if self.uses_tls else "SASL_PLAINTEXT"
        return KafkaAccess(
            bootstrap_servers=self.bootstrap_servers,
            security_protocol=protocol,
            sasl_mechanism=self.sasl_mechanism,
            username=username,
            password=password,
            ssl_cafile=self.ssl_cafile,
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.uses_tls:
            return None
        return ssl.create_default_context(
            cafile=str(self.ssl_cafile) if self.ssl_cafile is not None else None
        )

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (consumer, producer, admin)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.username
            options["sasl_plain_password"] = self.password
        return options

    def faststream_security(self) -> BaseSecurity | None:
        """The same, in the form FastStream's KafkaBroker takes."""
        context = self.ssl_context()
        if self.uses_sasl and self.username is not None and self.password is not None:
            return _SASL_SECURITY[self.sasl_mechanism](
                self.username, self.password, ssl_context=context, use_ssl=self.uses_tls
            )
        if self.uses_tls:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        return None
