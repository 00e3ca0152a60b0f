"""Checks that a port is free before something of ours binds it."""

from __future__ import annotations

import socket

from modelgate_stack.config import Port
from modelgate_stack.errors import StackError


def in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_free(port: Port, what: str) -> None:
    if in_use(port.value):
        raise StackError(
            f"port {port.value} for {what} is already taken by another process; "
            f"set {port.env} to a free port (e.g. {port.env}={port.value + 100})"
        )
