"""The check behind "one outbox relay at a time" (tests/support/relay_terms.py) can fail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from modelgate_testkit.services import ServiceProcess
from tests.support.relay_terms import overlapping, terms

T0 = 1_800_000_000.0


def _replica(tmp_path: Path, replica: int, lines: list[tuple[float, str]]) -> ServiceProcess:
    process = ServiceProcess("registry", {}, tmp_path, port=1, replica=replica)
    entries = [
        json.dumps({"time": datetime.fromtimestamp(T0 + at, UTC).isoformat(), "message": said})
        for at, said in lines
    ]
    process.log.write_text("\n".join([*entries, "Traceback (most recent call last):"]) + "\n")
    return process


def test_a_takeover_after_a_kill_is_one_relay_at_a_time(tmp_path: Path) -> None:
    first = _replica(tmp_path, 1, [(0, "outbox relay active in process 10")])
    first.killed_at[10] = T0 + 5
    second = _replica(
        tmp_path,
        2,
        [
            (1, "consumer started"),
            (6, "outbox relay active in process 20"),
            (9, "outbox relay stood down in process 20"),
            (11, "outbox relay active in process 21"),
        ],
    )
    found = terms([first, second])
    assert [(t.instance, t.pid, t.began - T0) for t in found] == [
        ("registry", 10, 0),
        ("registry-2", 20, 6),
        ("registry-2", 21, 11),
    ]
    assert found[0].ended == T0 + 5
    assert found[-1].ended is None, "the last one still relays"
    assert overlapping(found) == []


def test_a_relay_that_began_before_the_other_ended_is_reported(tmp_path: Path) -> None:
    first = _replica(
        tmp_path,
        1,
        [(0, "outbox relay active in process 10"), (4, "outbox relay stood down in process 10")],
    )
    second = _replica(tmp_path, 2, [(3, "outbox relay active in process 20")])
    (pair,) = overlapping(terms([first, second]))
    assert (pair[0].pid, pair[1].pid) == (10, 20)


def test_two_that_never_stood_down_are_reported(tmp_path: Path) -> None:
    first = _replica(tmp_path, 1, [(0, "outbox relay active in process 10")])
    second = _replica(tmp_path, 2, [(30, "outbox relay active in process 20")])
    assert len(overlapping(terms([first, second]))) == 1
