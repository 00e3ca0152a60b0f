"""Waiting for a component: give up early on a dead process, not on one odd look."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from modelgate_stack.errors import StackError
from modelgate_stack.waiting import wait_until


def answers(*values: bool, then: bool) -> Callable[[], bool]:
    """A probe that answers `values` in turn, then `then` for ever."""
    replies: Iterator[bool] = iter(values)
    return lambda: next(replies, then)


def test_one_look_at_a_process_seen_as_gone_does_not_end_the_wait() -> None:
    wait_until(
        answers(False, False, then=True),
        what="Kafka",
        timeout_s=10,
        alive=answers(False, then=True),
    )


def test_a_process_gone_on_two_looks_ends_the_wait_early() -> None:
    began = time.monotonic()
    with pytest.raises(StackError, match="Kafka exited"):
        wait_until(answers(then=False), what="Kafka", timeout_s=30, alive=answers(then=False))
    assert time.monotonic() - began < 5


def test_a_live_process_that_never_gets_ready_times_out() -> None:
    with pytest.raises(StackError, match="Kafka not ready after 1s"):
        wait_until(answers(then=False), what="Kafka", timeout_s=1, alive=answers(then=True))


def test_the_error_names_what_ended_the_wait_not_a_later_look() -> None:
    with pytest.raises(StackError, match="Kafka exited"):
        wait_until(
            answers(then=False), what="Kafka", timeout_s=30, alive=answers(False, False, then=True)
        )
