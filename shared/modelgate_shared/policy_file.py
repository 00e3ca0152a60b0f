"""A policy kept as data: a YAML (or JSON) file read again whenever it changes.

The registry's review policy and the validator's signing policy are both such files, so an
operator (or a Kubernetes ConfigMap update) changes them without a restart. Whether the file
changed is decided by its size and modification time, a `stat` per use: cheap enough to check
at every decision.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class PolicyFileError(ValueError):
    """The file cannot be read, parsed, or validated; the message says which and why."""


class PolicyFile(Generic[M]):
    def __init__(self, path: Path, model: type[M], what: str = "policy") -> None:
        self.path = path
        self.model = model
        self.what = what
        self._stamp: tuple[int, int] | None = None

    def read_if_changed(self) -> M | None:
        """The file's document if it changed since the last call, None if it did not; raises
        PolicyFileError with the reason when it cannot be used (and not again until it
        changes, so a broken file is reported once)."""
        try:
            info = os.stat(self.path)
        except OSError as exc:
            # Gone for now: the same file put back must be read again, not taken as unchanged.
            self._stamp = None
            raise PolicyFileError(f"cannot read {self.path}: {exc.strerror}") from exc
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            return self.model.model_validate(
                yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
            )
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise PolicyFileError(f"cannot parse {self.path}: {exc}") from exc
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise PolicyFileError(f"invalid {self.what} {self.path}: {problems}") from exc
