"""Transfers on the terminal: one bar per file and one overall, with bytes, rate and ETA."""

from __future__ import annotations

from types import TracebackType

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from modelgate.cli.output import err


class Bars:
    """`modelgate.progress.Progress` drawn with rich on stderr (silent with `quiet`)."""

    def __init__(self, verb: str, *, quiet: bool = False) -> None:
        self.verb = verb
        self.rich = Progress(
            TextColumn("{task.description}", justify="left"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=quiet,
            transient=False,
        )
        self.total: TaskID | None = None
        self.tasks: dict[str, TaskID] = {}
        self.sizes: dict[str, int | None] = {}

    def __enter__(self) -> Bars:
        self.rich.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rich.stop()

    def begin(self, files: list[tuple[str, int | None]]) -> None:
        self.sizes = dict(files)
        known = [s for _, s in files if s is not None]
        total = sum(known) if len(known) == len(files) else None
        self.total = self.rich.add_task(f"[bold]{self.verb} {len(files)} file(s)", total=total)

    def start_file(self, path: str, done: int = 0) -> None:
        self.tasks[path] = self.rich.add_task(path, total=self.sizes.get(path), completed=done)
        if done and self.total is not None:
            self.rich.advance(self.total, done)

    def advance(self, path: str, nbytes: int) -> None:
        self.rich.advance(self.tasks[path], nbytes)
        if self.total is not None:
            self.rich.advance(self.total, nbytes)

    def finish_file(self, path: str) -> None:
        task = self.tasks.get(path)
        if task is not None:
            size = self.sizes.get(path)
            self.rich.update(task, completed=size if size is not None else None)
