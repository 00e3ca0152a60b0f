"""safetensors: an 8-byte little-endian header length, a JSON header, then the tensor bytes.

The header is read with two ranged requests (never the tensors); every tensor's dtype, shape
and offsets are checked, and the offsets must tile the data section exactly, as the format
requires (no overlap, no hole, nothing past the end).
"""

from __future__ import annotations

import json
import math
import struct

from modelgate_validator.artifact_reader import Reader

DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
MAX_HEADER_BYTES = 100 * 1024 * 1024  # the reference implementation's own limit


def _tensor_span(name: str, info: object, data_bytes: int) -> tuple[int, int] | str:
    """The byte span one tensor declares, or what is wrong with its entry."""
    if not isinstance(info, dict):
        return f"tensor {name!r}: entry is not an object"
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPE_BYTES:
        return f"tensor {name!r}: unknown dtype {dtype!r}"
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        return f"tensor {name!r}: shape {shape!r} is not a list of sizes"
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) for o in offsets)
    ):
        return f"tensor {name!r}: data_offsets {offsets!r} is not [begin, end]"
    begin, end = offsets
    if not 0 <= begin <= end <= data_bytes:
        return (
            f"tensor {name!r}: offsets [{begin}, {end}] fall outside the "
            f"{data_bytes}-byte data section"
        )
    expected = math.prod(shape) * DTYPE_BYTES[dtype]
    if end - begin != expected:
        return f"tensor {name!r}: {end - begin} bytes for {dtype}{shape}, expected {expected}"
    return begin, end


def _tiling_problems(spans: list[tuple[int, int, str]], data_bytes: int) -> list[str]:
    """The tensors must tile the data section: no overlap, no hole, no trailing bytes."""
    problems = []
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            kind = "overlaps the previous tensor" if begin < position else "leaves a hole before it"
            problems.append(f"tensor {name!r} at {begin} {kind} (expected offset {position})")
        position = max(position, end)
    if not problems and position != data_bytes:
        problems.append(f"tensors cover {position} of {data_bytes} data bytes (trailing bytes)")
    return problems


def check_header(header: object, data_bytes: int) -> tuple[list[str], int]:
    """Problems with a parsed header, and how many tensors it declares."""
    if not isinstance(header, dict):
        return [f"header is a JSON {type(header).__name__}, not an object"], 0
    problems: list[str] = []
    spans: list[tuple[int, int, str]] = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                problems.append("__metadata__ must map strings to strings")
            continue
        span = _tensor_span(name, info, data_bytes)
        if isinstance(span, str):
            problems.append(span)
        else:
            spans.append((*span, name))
    return problems + _tiling_problems(spans, data_bytes), len(spans)


async def inspect(reader: Reader, uri: str, size: int) -> tuple[list[str], str]:
    if size < 8:
        return [f"{size} bytes is too short for a safetensors file"], ""
    (header_len,) = struct.unpack("<Q", await reader.read_range(uri, 0, 8))
    if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
        return [f"header length {header_len} is impossible for a {size}-byte file"], ""
    raw = await reader.read_range(uri, 8, header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [f"header is not valid UTF-8 JSON: {exc}"], ""
    problems, tensors = check_header(header, size - 8 - header_len)
    return problems, f"{tensors} tensors, {header_len}-byte header, offsets consistent"
