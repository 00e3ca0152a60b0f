"""safetensors: an 8-byte little-endian header length, a JSON header, then the tensor bytes.

The header is read with two ranged requests (never the tensors) and held to exactly the rules
of the reference implementation (the `safetensors` crate, `Metadata::validate`), so that what
passes here loads everywhere and nothing valid is refused:

- the header is at most 100,000,000 bytes of UTF-8 JSON, read as serde_json reads it;
- every tensor has a known dtype, a shape of u64 sizes and `[begin, end]` offsets;
- sorted by offsets, the tensors tile the data section from 0 with no hole or overlap, and the
  last one ends where the file does;
- a tensor's byte size is its element count times the dtype's bits, over 8: the element count
  must fill whole bytes (sub-byte dtypes such as F4 need an even count), and nothing overflows
  64 bits on the way (counted dimension by dimension, as the reference does).
"""

from __future__ import annotations

import struct

from modelgate_validator.artifact_reader import Reader
from modelgate_validator.formats import serde_json
from modelgate_validator.formats.serde_json import Pairs

DTYPE_BITS = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}
"""Bits per element of every dtype the reference knows (`Dtype::bitsize`). A unit test holds
the names to the installed `safetensors` package's own list, so a dtype it adds is noticed."""
MAX_HEADER_BYTES = 100_000_000  # the reference implementation's own limit (MAX_HEADER_SIZE)
METADATA_KEY = "__metadata__"
FIELDS = ("dtype", "shape", "data_offsets")
U64_MAX = serde_json.U64_MAX


def _is_u64(value: object) -> bool:
    return type(value) is int and 0 <= value <= U64_MAX


def _dtype(value: object) -> str | None:
    """The dtype named by a string, or by a one-key `{"F32": null}` (serde's enum map form)."""
    if isinstance(value, str):
        return value if value in DTYPE_BITS else None
    if isinstance(value, Pairs) and len(value) == 1 and value[0][1] is None:
        return value[0][0] if value[0][0] in DTYPE_BITS else None
    return None


def _fields(name: str, info: object) -> tuple[object, object, object] | str:
    """dtype, shape and offsets of one entry, an object or a 3-element array as serde allows."""
    if isinstance(info, Pairs):
        found: dict[str, object] = {}
        for key, value in info:
            if key in FIELDS:
                if key in found:
                    return f"tensor {name!r}: field {key!r} appears twice"
                found[key] = value
        missing = [f for f in FIELDS if f not in found]
        if missing:
            return f"tensor {name!r}: missing {', '.join(missing)}"
        return found["dtype"], found["shape"], found["data_offsets"]
    if isinstance(info, list) and len(info) == 3:
        return info[0], info[1], info[2]
    return f"tensor {name!r}: entry is not an object"


def _element_bits(shape: list[int], bits: int) -> int | None:
    """Element count times bits, or None where the reference's u64 arithmetic overflows."""
    count = 1
    for size in shape:
        count *= size
        if count > U64_MAX:
            return None
    total = count * bits
    return total if total <= U64_MAX else None


def _tensor(name: str, info: object) -> tuple[int, int, int] | str:
    """(begin, end, expected byte size) one entry declares, or what is wrong with it."""
    fields = _fields(name, info)
    if isinstance(fields, str):
        return fields
    raw_dtype, shape, offsets = fields
    dtype = _dtype(raw_dtype)
    if dtype is None:
        return f"tensor {name!r}: unknown dtype {raw_dtype!r}"
    if not isinstance(shape, list) or not all(_is_u64(d) for d in shape):
        return f"tensor {name!r}: shape {shape!r} is not a list of sizes"
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_u64, offsets)):
        return f"tensor {name!r}: data_offsets {offsets!r} is not [begin, end]"
    bits = _element_bits(shape, DTYPE_BITS[dtype])
    if bits is None:
        return f"tensor {name!r}: {dtype}{shape} overflows 64 bits"
    if bits % 8:
        return f"tensor {name!r}: {dtype}{shape} does not fill whole bytes ({bits} bits)"
    return offsets[0], offsets[1], bits // 8


def _metadata_problem(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Pairs) and all(isinstance(v, str) for _, v in value):
        return None
    return f"{METADATA_KEY} must map strings to strings"


def _layout_problems(tensors: dict[str, tuple[int, int, int]], data_bytes: int) -> list[str]:
    """Sorted by offsets, the tensors tile the data section, each exactly its size."""
    position = 0
    for (begin, end, expected), name in sorted((v, k) for k, v in tensors.items()):
        if begin != position or end < begin:
            kind = "overlaps the previous tensor" if begin < position else "leaves a hole"
            if end < begin:
                kind = "ends before it begins"
            return [f"tensor {name!r} at [{begin}, {end}] {kind} (expected offset {position})"]
        if end - begin != expected:
            return [f"tensor {name!r}: {end - begin} bytes, expected {expected}"]
        position = end
    if position != data_bytes:
        return [f"tensors cover {position} of {data_bytes} data bytes"]
    return []


def check_header(header: object, data_bytes: int) -> tuple[list[str], int]:
    """Problems with a header parsed by `serde_json.loads`, and how many tensors it declares."""
    if not isinstance(header, Pairs):
        return [f"header is a JSON {type(header).__name__}, not an object"], 0
    problems: list[str] = []
    tensors: dict[str, tuple[int, int, int]] = {}
    seen_metadata = False
    for name, info in header:
        if name == METADATA_KEY:
            if seen_metadata:
                problems.append(f"{METADATA_KEY} appears twice")
            seen_metadata = True
            problem = _metadata_problem(info)
        else:
            # A repeated name: each entry must be valid, the last one counts (as in the crate).
            span = _tensor(name, info)
            problem = span if isinstance(span, str) else None
            if not isinstance(span, str):
                tensors[name] = span
        if problem:
            problems.append(problem)
    if problems:
        return problems, len(tensors)
    return _layout_problems(tensors, data_bytes), len(tensors)


def check_bytes(prefix: bytes, header_len: int, size: int) -> tuple[list[str], str]:
    """`prefix` holds the header JSON (the `header_len` bytes after the length)."""
    try:
        header = serde_json.loads(prefix.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [f"header is not valid UTF-8 JSON: {exc}"[:300]], ""
    problems, tensors = check_header(header, size - 8 - header_len)
    return problems, f"{tensors} tensors, {header_len}-byte header, offsets consistent"


def header_length_problem(header_len: int, size: int) -> str | None:
    if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
        return f"header length {header_len} is impossible for a {size}-byte file"
    return None


async def inspect(reader: Reader, uri: str, size: int) -> tuple[list[str], str]:
    if size < 8:
        return [f"{size} bytes is too short for a safetensors file"], ""
    (header_len,) = struct.unpack("<Q", await reader.read_range(uri, 0, 8))
    problem = header_length_problem(header_len, size)
    if problem:
        return [problem], ""
    return check_bytes(await reader.read_range(uri, 8, header_len), header_len, size)
