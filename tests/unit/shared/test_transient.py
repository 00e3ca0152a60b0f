"""Which failures are retried (dependency away) and which are not (the input is wrong)."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, NotLeaderForPartitionError, RecordTooLargeError

from modelgate_shared.transient import is_transient


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        # Seen during a PostgreSQL restart, on a pooled connection the server had dropped.
        asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        asyncpg.DeadlockDetectedError("deadlock detected"),
        KafkaConnectionError("Connection at 127.0.0.1:19092 closed"),
        NotLeaderForPartitionError(),
    ],
)
def test_a_dependency_away_is_transient(exc: Exception) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad input"),
        asyncpg.UniqueViolationError("duplicate key"),
        asyncpg.CheckViolationError("check constraint"),
        RecordTooLargeError(),
    ],
)
def test_a_wrong_input_is_not_transient(exc: Exception) -> None:
    assert not is_transient(exc)
