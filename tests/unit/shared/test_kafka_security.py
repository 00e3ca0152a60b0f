"""Kafka security settings from the environment, applied the same to every client."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faststream.security import SASLScram512

from modelgate_shared.kafka.security import KafkaAccess, KafkaSecurityError
from modelgate_shared.settings import ServiceSettings

SASL_ENV = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "validator",
    "KAFKA_SASL_PASSWORD": "s3cret-pw",
}


def test_settings_read_the_kafka_security_variables() -> None:
    access = ServiceSettings.model_validate(SASL_ENV).kafka
    assert access.username == "validator"
    options = access.client_options()
    assert options == {
        "bootstrap_servers": "kafka:9092",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "validator",
        "sasl_plain_password": "s3cret-pw",
    }


def test_the_broker_gets_the_same_principal() -> None:
    security = ServiceSettings.model_validate(SASL_ENV).kafka.faststream_security()
    assert isinstance(security, SASLScram512)
    assert (security.username, security.password, security.use_ssl) == (
        "validator",
        "s3cret-pw",
        False,
    )


def test_plaintext_stays_the_default_without_credentials() -> None:
    access = ServiceSettings.model_validate({}).kafka
    assert access.client_options()["security_protocol"] == "PLAINTEXT"
    assert access.faststream_security() is None


def test_sasl_ssl_verifies_the_broker_with_tls() -> None:
    access = ServiceSettings.model_validate(
        {**SASL_ENV, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}
    ).kafka
    options = access.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    security = access.faststream_security()
    assert security is not None
    assert security.use_ssl


def test_the_ca_file_is_the_one_trusted(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    access = ServiceSettings.model_validate(
        {**SASL_ENV, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SSL_CAFILE": str(missing)}
    ).kafka
    with pytest.raises(FileNotFoundError):
        access.client_options()


def test_sasl_without_a_password_is_refused_at_start() -> None:
    with pytest.raises(KafkaSecurityError, match="KAFKA_SASL_PASSWORD"):
        _ = ServiceSettings.model_validate({**SASL_ENV, "KAFKA_SASL_PASSWORD": ""}).kafka


def test_the_password_never_shows_in_a_repr() -> None:
    access = KafkaAccess(
        bootstrap_servers="k:9092",
        security_protocol="SASL_PLAINTEXT",
        username="ingest",
        password="s3cret-pw",
    )
    assert "s3cret-pw" not in repr(access)
    assert "s3cret-pw" not in repr(access.as_user("audit", "other-pw"))
