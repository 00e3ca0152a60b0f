"""Stage moves and page cursors."""

from __future__ import annotations

import base64
import json

import pytest

from modelgate_registry.errors import DomainError
from modelgate_registry.pagination import Sort, decode_cursor, encode_cursor, keyset
from modelgate_registry.stages import move_problem
from modelgate_shared.events import Stage


def test_forward_one_step_and_back_for_rollback() -> None:
    assert move_problem(Stage.DEVELOPMENT, Stage.STAGING) is None
    assert move_problem(Stage.STAGING, Stage.PRODUCTION) is None
    assert move_problem(Stage.PRODUCTION, Stage.CANARY) is None  # rollback
    assert move_problem(Stage.DEPRECATED, Stage.PRODUCTION) is None  # back to a previous version
    problem = move_problem(Stage.DEVELOPMENT, Stage.PRODUCTION)
    assert problem is not None
    assert "may go to: staging" in problem
    assert move_problem(Stage.STAGING, Stage.STAGING) == "the version is already in staging"


def test_cursor_round_trip_and_keyset_condition() -> None:
    token = encode_cursor("2026-11-22T08:00:00+00:00", 42)
    assert decode_cursor(token) == ("2026-11-22T08:00:00+00:00", 42)
    params: list[object] = ["x"]
    where, order = keyset(Sort("v.created_at", True, "timestamptz"), token, "v.id", params)
    assert where == "(v.created_at, v.id) < (($2::text)::timestamptz, $3::bigint)"
    assert order == "v.created_at DESC, v.id DESC"
    assert params == ["x", "2026-11-22T08:00:00+00:00", 42]
    assert keyset(Sort("m.name", False, "text"), None, "m.id", []) == ("", "m.name ASC, m.id ASC")


def test_a_forged_cursor_is_a_400() -> None:
    with pytest.raises(DomainError) as refused:
        decode_cursor("not-base64-json")
    assert refused.value.status == 400


def _forge(value: object, row_id: object) -> str:
    raw = json.dumps([value, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("token", "cast"),
    [
        (_forge("not-a-date", 1), "timestamptz"),
        (_forge("2026-11-22T08:00:00", 1), "timestamptz"),  # naive
        (_forge("9999-12-31T23:59:59-23:59", 1), "timestamptz"),
        (_forge("a", float("inf")), "text"),
        (_forge("a", 2**63), "text"),
        (_forge("a", True), "text"),
        (_forge(None, 1), "text"),
        (_forge("a\x00b", 1), "text"),
        (_forge("7", 1), "bigint"),
        (_forge(2**64, 1), "bigint"),
        (base64.urlsafe_b64encode(b'["a", 1, 2]').decode(), "text"),
    ],
)
def test_a_forged_token_is_a_400_before_any_sql(token: str, cast: str) -> None:
    with pytest.raises(DomainError) as refused:
        keyset(Sort("x", False, cast), token, "id", [])
    assert refused.value.status == 400
    assert "page token" in refused.value.reason


def test_a_bigint_token_round_trips() -> None:
    params: list[object] = []
    keyset(Sort("a.id", False, "bigint"), encode_cursor(2**63 - 1, 5), "a.id", params)
    assert params == ["9223372036854775807", 5]
