"""The review step in tests: the harness auto-approves everything unless a test asks for humans.

Most end-to-end tests are about the gate's machinery, not the human review, so each run's
registry reads a policy whose one rule approves every validated version. A test of the review
step swaps in a policy with no rule (every version waits for an approver) for its duration;
the registry re-reads the file at its next decision.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

AUTO_APPROVE_ALL = """\
# The test harness: every validated version is approved without a human.
rules:
  - name: test-harness
    description: end-to-end tests of the gate's machinery, not of the review
"""
HUMANS_ONLY = "# Every validated version waits for an approver.\nrules: []\n"


def write_policy(path: Path, text: str) -> None:
    """Replace the policy file at once: the registry never reads half a file."""
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    os.replace(partial, path)


@contextmanager
def policy(path: Path, text: str) -> Iterator[None]:
    before = path.read_text()
    write_policy(path, text)
    try:
        yield
    finally:
        write_policy(path, before)


@contextmanager
def manual_review(path: Path) -> Iterator[None]:
    """Every version validated meanwhile waits for an approver."""
    with policy(path, HUMANS_ONLY):
        yield
