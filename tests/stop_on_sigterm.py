"""SIGTERM ends a pytest run the way Ctrl-C does (tests/conftest.py installs it; it is also a
plugin of its own, `-p tests.stop_on_sigterm`).

By default SIGTERM kills pytest at once, so no fixture is torn down and the service
processes the harness started (tests/support/services.py) outlive the run, holding their
ports. Raised as KeyboardInterrupt, it lets pytest finish the session: every fixture's
teardown runs, and those processes are stopped.
"""

from __future__ import annotations

import signal
from types import FrameType

import pytest


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install() -> None:
    signal.signal(signal.SIGTERM, _interrupt)


def pytest_configure(config: pytest.Config) -> None:
    install()
