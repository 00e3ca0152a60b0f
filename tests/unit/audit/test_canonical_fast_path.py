"""The audit's canonical bytes are the `rfc8785` package's, for any JSON value: the fast path
(Python's own encoder) where the two agree, the package everywhere else."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from modelgate_audit.canonical import canonical_bytes

_keys = st.one_of(st.text(max_size=8), st.sampled_from(["a", "é", "\uffff", "\U0001f600", "𝄞"]))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 1e-4, 9.999e-5, 1e15 + 0.5, 1e16, 12.0, -0.0, 5e-324, 1.79e308]),
    st.text(),
)
_json: Any = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400)
@given(st.dictionaries(_keys, _json, max_size=6))
def test_canonical_bytes_are_the_rfc8785_packages(document: dict[str, Any]) -> None:
    try:
        expected = rfc8785.dumps(document)
    except rfc8785.CanonicalizationError:
        # What the package refuses, the audit refuses the same way.
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_bytes(document)
        return
    assert canonical_bytes(document) == expected


@pytest.mark.parametrize(
    "document",
    [{"a": "lone \ud800 surrogate"}, {"a": 2**53}, {"a": float("inf")}, {1: "not a str key"}],
)
def test_what_rfc8785_refuses_the_fast_path_refuses_too(document: dict[Any, Any]) -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        rfc8785.dumps(document)
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical_bytes(document)


def test_keys_that_sort_apart_in_utf16_keep_rfc8785s_order() -> None:
    # U+FFFF sorts after U+1F600 by code point, before it by UTF-16 code unit (0xD83D...).
    document = {"\uffff": 1, "\U0001f600": 2}
    assert canonical_bytes(document) == rfc8785.dumps(document)
    assert canonical_bytes(document).index("\U0001f600".encode()) < canonical_bytes(document).index(
        "\uffff".encode()
    )
