"""What every part of the stack offers the orchestrator."""

from __future__ import annotations

from typing import Protocol


class Component(Protocol):
    name: str

    def pending(self) -> str | None:
        """What `prepare` still has to install, download or build, in words; None when cached."""

    def prepare(self) -> None:
        """Install, download or build what is missing (cached; no network when cached)."""

    def ensure_running(self) -> bool:
        """Start it unless it already runs; wait until ready. True if it was started now."""

    def stop(self) -> bool:
        """Stop the process this stack started; True if one was running."""

    def where(self) -> str:
        """Where it listens, for `status`."""
