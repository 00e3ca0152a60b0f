"""Generated and mutated safetensors files for the differential test, from a seeded generator.

A file is built from a `Header` (an ordered list of pairs, so duplicate keys can be written)
and serialized by hand, so a mutation can write JSON that `json.dumps` never would: `NaN`,
`-0`, numbers past f64, lone surrogate escapes, a tensor entry as an array.
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass

JsonValue = object


@dataclass(frozen=True)
class Raw:
    """JSON text written as it is."""

    text: str


class Obj(list[tuple[str, JsonValue]]):
    """A JSON object as ordered pairs (duplicates allowed)."""


def emit(value: JsonValue) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Obj):
        return "{" + ",".join(f"{_key(k)}:{emit(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(emit(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


RAW_KEY = "\x01"
"""A key starting with this is written as the JSON text after it (escapes and all)."""


def _key(key: str) -> str:
    return key[1:] if key.startswith(RAW_KEY) else json.dumps(key, ensure_ascii=False)


@dataclass
class Built:
    header: Obj
    data: bytes


def _shape(rng: random.Random, bits: int) -> list[int]:
    while True:
        shape = [rng.choice([0, 1, 1, 2, 3, 4, 5, 8]) for _ in range(rng.randint(0, 3))]
        count = 1
        for size in shape:
            count *= size
        if count * bits % 8 == 0:
            return shape


def valid(rng: random.Random, dtypes: dict[str, int], dtype: str | None = None) -> Built:
    """A well-formed file: tensors of random dtypes and shapes, laid out in a random order."""
    names = [
        rng.choice(["w", "layer.0.weight", "émbed", "a" * 40, "x/y", ""]) + str(i)
        for i in range(rng.randint(0, 5))
    ]
    if dtype is not None:
        names.append("forced")
    entries = []
    for name in names:
        kind = dtype if name == "forced" and dtype else rng.choice(sorted(dtypes))
        shape = _shape(rng, dtypes[kind])
        count = 1
        for size in shape:
            count *= size
        entries.append((name, kind, shape, count * dtypes[kind] // 8))
    order = entries[:]
    rng.shuffle(order)
    offsets: dict[str, tuple[int, int]] = {}
    position = 0
    for name, _, _, size in order:
        offsets[name] = (position, position + size)
        position += size
    header = Obj()
    if rng.random() < 0.5:
        header.append(("__metadata__", Obj([("format", "pt"), ("note", rng.choice(["", "ü"]))])))
    for name, kind, shape, _ in entries:
        header.append(
            (name, Obj([("dtype", kind), ("shape", shape), ("data_offsets", list(offsets[name]))]))
        )
    if rng.random() < 0.3:
        rng.shuffle(header)
    return Built(header, rng.randbytes(position))


def serialize(built: Built, rng: random.Random, *, pad: bool = True) -> bytes:
    text = emit(built.header)
    if pad and rng.random() < 0.5:
        text += " " * (-len(text.encode()) % 8)  # the reference writer pads to 8 bytes
    raw = text.encode("utf-8", "surrogatepass")
    return struct.pack("<Q", len(raw)) + raw + built.data


def _tensors(built: Built) -> list[int]:
    return [
        i for i, (k, v) in enumerate(built.header) if k != "__metadata__" and isinstance(v, Obj)
    ]


def _entry(built: Built, rng: random.Random) -> Obj | None:
    found = _tensors(built)
    if not found:
        return None
    value = built.header[rng.choice(found)][1]
    return value if isinstance(value, Obj) else None


def _set(entry: Obj, key: str, value: JsonValue) -> None:
    for i, (k, _) in enumerate(entry):
        if k == key:
            entry[i] = (k, value)
            return
    entry.append((key, value))


def _get(entry: Obj, key: str) -> JsonValue:
    return next((v for k, v in entry if k == key), None)


def _deep(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


ODD_VALUES: list[JsonValue] = [
    Raw("NaN"),
    Raw("Infinity"),
    Raw("1e999"),
    Raw("-1e400"),
    Raw("1e-400"),
    Raw("9" * 30),
    Raw("-" + "9" * 25),
    Raw("1.7976931348623157e308"),
    Raw("1.8e308"),
    Raw('"\\ud800"'),
    Raw('"\\udc00x"'),
    Raw('"\\ud83d\\ude00"'),
    Raw("-0"),
    1.5,
    None,
    True,
    "s",
    [1, [2, {}]],
    _deep(120),
    _deep(124),
    _deep(125),
    _deep(126),
    _deep(200),
]
SIZE_VALUES: list[JsonValue] = [
    -1,
    Raw("-0"),
    2.0,
    Raw("2e0"),
    True,
    None,
    "2",
    2**64 - 1,
    2**64,
    Raw("9" * 30),
    2**32,
]


def mutate_header(built: Built, rng: random.Random, dtypes: dict[str, int]) -> str:
    """One structural mutation of the header; returns what it did."""
    entry = _entry(built, rng)
    choice = rng.randrange(22)
    if entry is None and choice < 14:
        choice = 14 + rng.randrange(8)
    assert entry is not None or choice >= 14
    if choice == 0 and entry is not None:
        new = rng.choice(
            [
                *dtypes,
                "F128",
                "u8",
                "",
                5,
                None,
                Raw('{"U8":null}'),
                Raw('{"F4":null}'),
                Raw('{"U8":[]}'),
                Raw('["U8"]'),
                Raw('{"U8":null,"I8":null}'),
            ]
        )
        _set(entry, "dtype", new)
        return f"dtype -> {emit(new)}"
    if choice == 1 and entry is not None:
        shape = _get(entry, "shape")
        if isinstance(shape, list) and shape:
            shape[rng.randrange(len(shape))] = rng.choice(SIZE_VALUES)
        else:
            _set(entry, "shape", [rng.choice(SIZE_VALUES)])
        return "shape element"
    if choice == 2 and entry is not None:
        shape = _get(entry, "shape")
        grown = [*shape, rng.choice([0, 1, 2])] if isinstance(shape, list) else [1]
        _set(entry, "shape", grown)
        return "shape grows a dimension"
    if choice == 3 and entry is not None:
        _set(
            entry,
            "shape",
            rng.choice(
                [
                    [2**32, 2**32, 0],
                    [0, 2**32, 2**32],
                    [2**62, 4, 0],
                    [2**61, 0],
                    [2**63, 2, 0],
                    [3],
                    [1, 3],
                    [5],
                    {"0": 1},
                ]
            ),
        )
        return "shape overflow or odd count"
    if choice == 4 and entry is not None:
        offsets = _get(entry, "data_offsets")
        if isinstance(offsets, list) and len(offsets) == 2:
            i = rng.randrange(2)
            offsets[i] = rng.choice([offsets[i] + 1, max(offsets[i] - 1, 0), 0, 2**64 - 1, -1])
        return "data offset moved"
    if choice == 5 and entry is not None:
        offsets = _get(entry, "data_offsets")
        _set(
            entry,
            "data_offsets",
            rng.choice(
                [
                    [0],
                    [0, 1, 2],
                    None,
                    Raw("[0, 1e0]"),
                    {"0": 0, "1": 0},
                    list(reversed(offsets)) if isinstance(offsets, list) else [1, 0],
                ]
            ),
        )
        return "data offsets reshaped"
    if choice == 6 and entry is not None:
        key = rng.choice(["dtype", "shape", "data_offsets"])
        entry[:] = [(k, v) for k, v in entry if k != key]
        return f"drop {key}"
    if choice == 7 and entry is not None:
        key = rng.choice(["dtype", "shape", "data_offsets", "extra"])
        entry.append((key, _get(entry, key) if key != "extra" else 1))
        return f"repeat field {key}"
    if choice in (8, 9) and entry is not None:
        value = rng.choice(ODD_VALUES)
        entry.insert(rng.randrange(len(entry) + 1), ("extra", value))
        return f"extra field {emit(value)[:20]}"
    if choice == 10 and entry is not None:
        fields = [_get(entry, k) for k in ("dtype", "shape", "data_offsets")]
        if rng.random() < 0.7:
            entry[:] = [("as-array", Raw(emit(fields)))]
        else:
            entry[:] = [
                ("as-array", Raw(emit(fields[: rng.choice([2, 3])] + [1] * rng.randint(0, 1))))
            ]
        return "entry as an array"
    if choice == 11:
        i = rng.choice(_tensors(built))
        name, value = built.header[i]
        copy = Obj(list(value)) if isinstance(value, Obj) else value
        if rng.random() < 0.5 and isinstance(copy, Obj):
            _set(copy, "dtype", "NOPE")
        built.header.insert(rng.randrange(len(built.header) + 1), (name, copy))
        return "duplicate tensor name"
    if choice == 12:
        i = rng.choice(_tensors(built))
        del built.header[i]
        return "drop a tensor"
    if choice == 13:
        i = rng.choice(_tensors(built))
        built.header[i] = (built.header[i][0], rng.choice([None, 1, "x", [], Obj()]))
        return "entry of the wrong type"
    if choice == 14:
        value = rng.choice(
            [
                None,
                Obj([("a", 1)]),
                Obj([("a", "b"), ("a", "c")]),
                [["a", "b"]],
                Obj([("a", None)]),
                Obj(),
                Raw('{"a":"\\udc00"}'),
                "x",
            ]
        )
        built.header.insert(0, ("__metadata__", value))
        return f"__metadata__ = {emit(value)[:30]}"
    if choice == 15:
        built.header.append(("__metadata__", Obj([("b", "c")])))
        built.header.append(("__metadata__", rng.choice([None, Obj()])))
        return "__metadata__ twice"
    if choice == 16:
        name = rng.choice(
            [
                '"\\ud800"',
                '"\\ud83d\\ude00"',
                '"\\u005f_metadata__"',
                '"\\u0000"',
                '"\\udc00"',
                '"\\ud800\\u0041"',
            ]
        )
        zero = Obj([("dtype", "U8"), ("shape", [0]), ("data_offsets", [0, 0])])
        built.header.insert(rng.randrange(len(built.header) + 1), (RAW_KEY + name, zero))
        return f"tensor named {name}"
    if choice == 17:
        built.header.append(
            (
                rng.choice(["t", "z"]),
                Obj([("dtype", "U8"), ("shape", [0]), ("data_offsets", [0, 0])]),
            )
        )
        return "zero-size tensor"
    if choice == 18:
        built.header.insert(
            0,
            (
                "deep",
                Obj(
                    [
                        ("dtype", "U8"),
                        ("shape", [0]),
                        ("data_offsets", [0, 0]),
                        ("x", _deep(rng.randint(122, 128))),
                    ]
                ),
            ),
        )
        return "nesting near the limit"
    if choice == 19:
        built.header.append(
            ("lone", Raw('{"dtype":"U8","shape":[0],"data_offsets":[0,0],"n":"\\ud800"}'))
        )
        return "lone surrogate in a value"
    if choice == 20:
        built.header.append(
            ("paired", Raw('{"dtype":"U8","shape":[0],"data_offsets":[0,0],"n":"\\ud83d\\ude00"}'))
        )
        return "paired surrogate in a value"
    built.data = built.data[: rng.randrange(len(built.data) + 1)] + rng.randbytes(rng.randint(0, 2))
    return "data section resized"


def mutate_bytes(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """A mutation of the file's bytes: its length field, header bytes, truncation."""
    (header_len,) = struct.unpack("<Q", data[:8]) if len(data) >= 8 else (0,)
    choice = rng.randrange(7)
    if choice == 0:
        new = rng.choice(
            [
                header_len + 1,
                max(header_len - 1, 0),
                0,
                2**64 - 1,
                100_000_001,
                len(data),
                len(data) - 8,
                rng.randrange(2**64),
            ]
        )
        return struct.pack("<Q", new) + data[8:], f"header length {header_len} -> {new}"
    if choice == 1 and header_len and len(data) > 8:
        out = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            i = 8 + rng.randrange(min(header_len, len(data) - 8))
            out[i] = rng.choice([rng.randrange(256), 0xFF, 0xC3, 0x00, ord('"'), ord("}")])
        return bytes(out), "header bytes flipped"
    if choice == 2:
        cut = rng.randrange(len(data) + 1)
        return data[:cut], f"truncated at {cut} of {len(data)}"
    if choice == 3:
        return data + rng.randbytes(rng.randint(1, 9)), "trailing bytes"
    if choice == 4 and header_len and 8 + header_len <= len(data):
        body = data[8 : 8 + header_len]
        junk = rng.choice([b" x", b"\x00", b"  ", b"\n", b"}", b"\xff", b"\xed\xa0\x80"])
        body = body.rstrip(b" ") + junk
        return struct.pack("<Q", len(body)) + body + data[8 + header_len :], f"header + {junk!r}"
    if choice == 5 and header_len:
        body = b"\xef\xbb\xbf" + data[8 : 8 + header_len]
        return struct.pack("<Q", len(body)) + body + data[8 + header_len :], "BOM before header"
    return data[: rng.randrange(9)], "shorter than the length field"


Mutation = Callable[[Built, random.Random, dict[str, int]], str]
