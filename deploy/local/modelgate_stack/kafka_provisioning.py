"""What the stack's admin sets up on Kafka: SCRAM users and the ACLs of the gate's table.

aiokafka's admin client has no ACL or SCRAM calls, so this uses confluent-kafka's (librdkafka),
which has both; it is synchronous, so async callers run it in a thread. The test harness uses
the same functions for each run's prefixed topics.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from modelgate_shared.kafka.acls import PrincipalAcls
from modelgate_shared.kafka.security import KafkaAccess

TIMEOUT_S = 30.0
SCRAM_ITERATIONS = 8192
_OPERATIONS = {
    "Read": AclOperation.READ,
    "Write": AclOperation.WRITE,
    "Describe": AclOperation.DESCRIBE,
}
_RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}


def admin_client(kafka: KafkaAccess) -> AdminClient:
    """A librdkafka admin client with the same security as our aiokafka clients."""
    config: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "security.protocol": kafka.security_protocol.lower(),
        # librdkafka logs every refused connection to stderr; the raised error says enough.
        "log_level": 3,
    }
    if kafka.uses_sasl:
        config["sasl.mechanism"] = kafka.sasl_mechanism
        config["sasl.username"] = kafka.username
        config["sasl.password"] = kafka.password
    if kafka.uses_tls and kafka.ssl_cafile is not None:
        config["ssl.ca.location"] = str(kafka.ssl_cafile)
    return AdminClient(config)


def _wait_all(futures: Mapping[Any, Any]) -> None:
    for future in futures.values():
        future.result(timeout=TIMEOUT_S)


def upsert_scram_users(kafka: KafkaAccess, passwords: Mapping[str, str]) -> None:
    """Create or reset each user's SCRAM-SHA-512 credential (idempotent)."""
    if not passwords:
        return
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(user, info, password.encode())
        for user, password in passwords.items()
    ]
    client = admin_client(kafka)  # held until the futures end: dropping it aborts them
    _wait_all(client.alter_user_scram_credentials(upserts))


def bindings(table: Mapping[str, PrincipalAcls]) -> list[AclBinding]:
    """The table as ACL bindings: LITERAL, ALLOW, from any host."""
    return [
        AclBinding(
            _RESOURCES[resource],
            name,
            ResourcePatternType.LITERAL,
            f"User:{principal}",
            "*",
            _OPERATIONS[operation],
            AclPermissionType.ALLOW,
        )
        for principal, acls in table.items()
        for resource, name, operation in acls.bindings()
    ]


def grant(kafka: KafkaAccess, table: Mapping[str, PrincipalAcls]) -> None:
    """Create the table's ACLs (an ACL that exists already is no error), and wait until the
    broker enforces them: the controller commits them first and the broker's authorizer
    applies them a moment later, and a client started in between is refused."""
    wanted = bindings(table)
    if not wanted:
        return
    client = admin_client(kafka)
    _wait_all(client.create_acls(wanted))
    keys = {_key(b) for b in wanted}
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        # DescribeAcls is answered from the broker's authorizer: what it lists, it enforces.
        missing = keys - {_key(b) for b in _all_acls(client)}
        if not missing:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the broker does not show {len(missing)} ACLs, e.g. {min(missing)}")
        time.sleep(0.05)


def _all_acls(client: AdminClient) -> list[AclBinding]:
    # None matches any name, principal and host (confluent-kafka's hints say str only).
    every = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]
        ResourcePatternType.ANY,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    found: list[AclBinding] = client.describe_acls(every).result(timeout=TIMEOUT_S)
    return found


def prune(kafka: KafkaAccess, table: Mapping[str, PrincipalAcls], names: set[str]) -> int:
    """Delete the ACLs of the table's principals on `names` (topics and groups) that the table
    no longer grants, so a right taken out of it is gone after the next `make up`; returns
    how many. ACLs on other names (a test run's prefixed topics) are left alone."""
    client = admin_client(kafka)
    wanted = {_key(b) for b in bindings(table)}
    principals = {f"User:{p}" for p in table}
    stale = [
        b
        for b in _all_acls(client)
        if b.principal in principals and b.name in names and _key(b) not in wanted
    ]
    if stale:
        _wait_all(client.delete_acls([_exact(b) for b in stale]))
    return len(stale)


def _key(b: AclBinding) -> tuple[object, ...]:
    return (b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation)


def _exact(b: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        b.restype,
        b.name,
        b.resource_pattern_type,
        b.principal,
        b.host,
        b.operation,
        b.permission_type,
    )


def revoke_prefixed(kafka: KafkaAccess, prefix: str) -> int:
    """Delete every ACL on a topic or group whose name starts with `prefix` (a test run's);
    returns how many. Refuses an empty prefix, which would mean every ACL."""
    if not prefix:
        raise ValueError("revoking ACLs needs a non-empty prefix")
    client = admin_client(kafka)
    doomed = [b for b in _all_acls(client) if b.name.startswith(prefix)]
    if not doomed:
        return 0
    _wait_all(client.delete_acls([_exact(b) for b in doomed]))
    return len(doomed)


def acls_of(kafka: KafkaAccess, principal: str) -> list[AclBinding]:
    """The ACLs naming one principal (`User:<name>`), for tests and `status`."""
    client = admin_client(kafka)
    return [b for b in _all_acls(client) if b.principal == f"User:{principal}"]
