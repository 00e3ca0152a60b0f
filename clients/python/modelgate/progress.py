"""How transfers report progress: a callback object the CLI turns into rich progress bars."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def begin(self, files: list[tuple[str, int | None]]) -> None:
        """The transfer is about to move these files (path, size when known)."""

    def start_file(self, path: str, done: int = 0) -> None:
        """A file starts; `done` bytes of it are already there (a resumed download)."""

    def advance(self, path: str, nbytes: int) -> None:
        """`nbytes` more bytes of `path` moved."""

    def finish_file(self, path: str) -> None:
        """All of `path` moved."""
