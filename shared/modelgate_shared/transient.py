"""Which failures are worth retrying: the dependency is away, not the input wrong."""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

TRANSIENT: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # "connection is closed", pool shutting down
    asyncpg.CannotConnectNowError,  # the server is starting or shutting down
    asyncpg.AdminShutdownError,
    # A pooled connection the server dropped (PostgreSQL restart) whose protocol is still
    # consuming the server's last error when it is handed out: "cannot switch to state N;
    # another operation (2) is in progress". asyncpg raises this only for protocol-state
    # violations, and no connection here is ever shared between tasks, so it means a dying
    # connection. Not retrying it dead-lettered a valid event in a PostgreSQL-restart run.
    asyncpg.InternalClientError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    KafkaConnectionError,
    KafkaTimeoutError,
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
    aiohttp.ClientConnectionError,  # server disconnected (refused and reset are OSErrors)
    aiohttp.ClientPayloadError,  # a body cut short
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT):
        return True
    # aiokafka marks broker-side conditions that clear by themselves (leader moved, ...).
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))
