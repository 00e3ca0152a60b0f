"""JSON read the way Rust's serde_json reads it, where Python's `json` module is laxer.

The safetensors reference implementation parses its header with serde_json; a header that
Python's parser accepts but serde_json refuses would pass our check and fail every loader. The
differences that matter, each found by feeding both parsers the same bytes:

- `NaN`, `Infinity` and numbers beyond the f64 range are errors, not floats;
- an integer literal outside u64/i64 is read as a float, and so is `-0`;
- a `\\u` escape must not leave an unpaired surrogate;
- containers nest at most `MAX_DEPTH` deep.

Objects come back as `Pairs` (every key/value pair in order, duplicates kept), because serde
treats a repeated key differently by where it occurs (an error for a struct field, last-wins
for a map) and the caller knows which is which.
"""

from __future__ import annotations

import json
import math

MAX_DEPTH = 127
"""serde_json's recursion limit (128) allows 127 nested arrays or objects, top level included."""
U64_MAX = 2**64 - 1
I64_MIN = -(2**63)


class Pairs(list[tuple[str, object]]):
    """One JSON object: its key/value pairs in order, duplicates kept."""


class SerdeJsonError(ValueError):
    pass


def _constant(name: str) -> object:
    raise SerdeJsonError(f"{name} is not JSON")


def _integer(literal: str) -> int | float:
    # Short literals only go through int(): Python refuses to convert over 4300 digits.
    if literal != "-0" and len(literal) <= 21:
        value = int(literal)
        if I64_MIN <= value <= U64_MAX:
            return value
    return _float(literal)


def _float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise SerdeJsonError(f"number {literal[:40]} is out of range")
    return value


def _check_strings_and_depth(value: object) -> None:
    """Unpaired surrogates (only a `\\u` escape can make one) and the nesting limit."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_string(item)
        elif isinstance(item, list):  # Pairs included
            if depth > MAX_DEPTH:
                raise SerdeJsonError(f"nesting deeper than {MAX_DEPTH}")
            for child in item:
                if isinstance(item, Pairs):
                    key, child_value = child
                    _check_string(key)
                    stack.append((child_value, depth + 1))
                else:
                    stack.append((child, depth + 1))


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SerdeJsonError("a \\u escape leaves an unpaired surrogate") from exc


def loads(text: str) -> object:
    """Parse `text` as serde_json would, or raise `SerdeJsonError` / `ValueError`."""
    try:
        value = json.loads(
            text,
            object_pairs_hook=Pairs,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except RecursionError as exc:
        raise SerdeJsonError(f"nesting deeper than {MAX_DEPTH}") from exc
    _check_strings_and_depth(value)
    return value
