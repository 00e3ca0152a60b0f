"""GGUF: a structural check of the whole header against the file, before any loader sees it.

llama.cpp's GGUF loader has had memory-safety bugs, so a GGUF file is walked field by field:
the header, every metadata key/value and every tensor info, with each declared length and count
held to what the file can hold. A file passes only if both reference readers, llama.cpp's
(`gguf_init_from_file` plus the model loader's bounds check) and the `gguf` package's
`GGUFReader`, would open it; where they differ, the stricter rule is kept (the list is in
docs/format-checks.md).

Reads go through `RangeCursor`: a window of the header at a time, payloads skipped unread.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from modelgate_validator.artifact_reader import Reader
from modelgate_validator.formats.gguf_types import (
    READER_BLOCK_BYTES,
    SCALAR_BYTES,
    TENSOR_TYPES,
    ValueType,
)
from modelgate_validator.formats.range_cursor import RangeCursor, Truncated

SUPPORTED_VERSIONS = (2, 3)
MAX_STRING_BYTES = 1024**3  # llama.cpp's GGUF_MAX_STRING_LENGTH
MAX_ARRAY_ELEMENTS = 1024**3  # llama.cpp's GGUF_MAX_ARRAY_ELEMENTS
MAX_NAME_BYTES = 63  # a tensor name must fit ggml's 64-byte name field with its NUL
MAX_DIMS = 4
DEFAULT_ALIGNMENT = 32
I64_MAX = 2**63 - 1
U64_MAX = 2**64 - 1
MIN_KV_BYTES = 14  # key length, a 1-byte key, the type, a 1-byte value
MIN_TENSOR_INFO_BYTES = 24  # name length, dimension count, type, offset
ALIGNMENT_KEY = hashlib.sha256(b"general.alignment").digest()
RESERVED_KEYS = {
    hashlib.sha256(name.encode()).digest(): name
    for name in ("GGUF.version", "GGUF.tensor_count", "GGUF.kv_count")
}
"""Names the `gguf` package's reader gives the header's own fields: a key of that name is a
duplicate to it, and the file does not open."""


class Refused(Exception):
    pass


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]
    type_id: int
    offset: int

    @property
    def elements(self) -> int:
        count = 1
        for size in self.dims:
            count *= size
        return count

    def nbytes(self, block_bytes: int) -> int:
        return self.elements // TENSOR_TYPES[self.type_id].block * block_bytes


def _pad(offset: int, alignment: int) -> int:
    return offset + (-offset % alignment)


async def _string_length(cursor: RangeCursor, what: str) -> int:
    length = await cursor.u64(f"{what} length")
    if length > MAX_STRING_BYTES:
        raise Refused(f"{what} declares {length} bytes (limit {MAX_STRING_BYTES})")
    return length


async def _value(cursor: RangeCursor, key: str, value_type: int) -> None:
    """Skip one metadata value, checking every length it declares."""
    if value_type == ValueType.STRING:
        cursor.skip(await _string_length(cursor, f"value of {key!r}"), f"value of {key!r}")
    elif value_type == ValueType.ARRAY:
        element = await cursor.u32(f"element type of {key!r}")
        if element not in SCALAR_BYTES and element != ValueType.STRING:
            raise Refused(f"key {key!r}: array element type {element} is not a GGUF scalar type")
        count = await cursor.u64(f"length of {key!r}")
        if count > MAX_ARRAY_ELEMENTS:
            raise Refused(f"key {key!r}: {count} array elements (limit {MAX_ARRAY_ELEMENTS})")
        if element == ValueType.STRING:
            if count * 8 > cursor.remaining:
                raise Refused(f"key {key!r}: {count} strings cannot fit in the file")
            too_long = await cursor.skip_strings(count, MAX_STRING_BYTES, f"string in {key!r}")
            if too_long is not None:
                raise Refused(
                    f"a string in {key!r} declares {too_long} bytes (limit {MAX_STRING_BYTES})"
                )
        else:
            cursor.skip(count * SCALAR_BYTES[ValueType(element)], f"array {key!r}")
    elif value_type in SCALAR_BYTES:
        cursor.skip(SCALAR_BYTES[ValueType(value_type)], f"value of {key!r}")
    else:
        raise Refused(f"key {key!r} has unknown value type {value_type}")


async def _metadata(cursor: RangeCursor, count: int) -> int:
    """Walk the key/value table; returns the alignment it sets."""
    seen: set[bytes] = set()
    alignment = DEFAULT_ALIGNMENT
    for index in range(count):
        length = await _string_length(cursor, f"key {index}")
        if length == 0:
            raise Refused(f"key {index} is empty")
        digest, utf8, head = await cursor.text(length, f"key {index}")
        key = head.decode("utf-8", "replace")
        if not utf8:
            raise Refused(f"key {index} ({key!r}) is not UTF-8")
        if digest in seen or digest in RESERVED_KEYS:
            raise Refused(f"key {key!r} appears twice")
        seen.add(digest)
        value_type = await cursor.u32(f"type of {key!r}")
        if digest == ALIGNMENT_KEY:
            if value_type != ValueType.UINT32:
                raise Refused(f"general.alignment has type {value_type}, not UINT32")
            alignment = await cursor.u32("general.alignment")
            if alignment == 0 or alignment & (alignment - 1):
                raise Refused(f"general.alignment {alignment} is not a power of two")
        else:
            await _value(cursor, key, value_type)
    return alignment


def _check_shape(name: str, dims: tuple[int, ...], type_id: int) -> None:
    if any(size > I64_MAX for size in dims):
        raise Refused(f"tensor {name!r}: dimension out of range in {dims}")
    # llama.cpp's own overflow test: the element count must stay below 2^63.
    ne = (*dims, *(1,) * (MAX_DIMS - len(dims)))
    count = ne[0]
    for size in ne[1:]:
        if size > 1 and I64_MAX // size < count:
            raise Refused(f"tensor {name!r}: {dims} has too many elements")
        count *= size
    kind = TENSOR_TYPES.get(type_id)
    if kind is None:
        raise Refused(f"tensor {name!r}: unknown ggml type {type_id}")
    if ne[0] % kind.block:
        raise Refused(
            f"tensor {name!r}: row of {ne[0]} is not a multiple of {kind.name} "
            f"block size {kind.block}"
        )
    if not dims and not kind.plain:
        raise Refused(f"tensor {name!r}: a {kind.name} tensor needs at least one dimension")
    if count // kind.block > U64_MAX // kind.block_bytes:
        raise Refused(f"tensor {name!r}: {dims} is too large in bytes")
    if count == 0:
        # numpy (the gguf package's reader) still refuses a shape whose non-zero sizes
        # overflow, empty or not.
        shape = dims if kind.plain else (ne[0] // kind.block * kind.block_bytes, *dims[1:])
        item = kind.block_bytes if kind.plain else 1
        for size in shape:
            item *= size or 1
        if item > I64_MAX:
            raise Refused(f"tensor {name!r}: empty, but its shape {dims} overflows")


async def _tensor_infos(cursor: RangeCursor, count: int) -> list[TensorInfo]:
    tensors: list[TensorInfo] = []
    names: set[str] = set()
    for index in range(count):
        length = await _string_length(cursor, f"tensor {index} name")
        if length > MAX_NAME_BYTES:
            raise Refused(f"tensor {index} name is {length} bytes (limit {MAX_NAME_BYTES})")
        raw = await cursor.take(length, f"tensor {index} name")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(f"tensor {index} name {raw!r} is not UTF-8") from None
        if name in names:
            raise Refused(f"tensor name {name!r} appears twice")
        names.add(name)
        n_dims = await cursor.u32(f"dimension count of {name!r}")
        if n_dims > MAX_DIMS:
            raise Refused(f"tensor {name!r} has {n_dims} dimensions (limit {MAX_DIMS})")
        dims = await cursor.unpack(f"<{n_dims}Q", f"dimensions of {name!r}")
        type_id = await cursor.u32(f"type of {name!r}")
        _check_shape(name, dims, type_id)
        offset = await cursor.u64(f"offset of {name!r}")
        tensors.append(TensorInfo(name, dims, type_id, offset))
    return tensors


def _check_layout(tensors: list[TensorInfo], data_start: int, alignment: int, size: int) -> int:
    """Tensors lie in order, each at the aligned end of the one before (llama.cpp requires
    it), and every byte either reader would read lies inside the file."""
    expected = 0
    for tensor in tensors:
        if tensor.offset != expected:
            raise Refused(
                f"tensor {tensor.name!r} at data offset {tensor.offset}, expected "
                f"{expected} (tensors are laid out in order, each aligned to "
                f"{alignment})"
            )
        kind = TENSOR_TYPES[tensor.type_id]
        nbytes = tensor.nbytes(kind.block_bytes)
        expected += _pad(nbytes, alignment)
        if expected > U64_MAX:
            raise Refused(f"tensor {tensor.name!r}: the data section overflows 64 bits")
        read = max(nbytes, tensor.nbytes(READER_BLOCK_BYTES.get(tensor.type_id, 0)))
        if data_start + tensor.offset + read > size:
            raise Refused(
                f"tensor {tensor.name!r}: its {read} bytes at "
                f"{data_start + tensor.offset} run past the end of the "
                f"{size}-byte file (truncated?)"
            )
    return expected


async def check(cursor: RangeCursor) -> str:
    """Walk the whole header; returns a summary, or raises `Refused` / `Truncated`."""
    magic = await cursor.take(4, "magic")
    if magic != b"GGUF":
        raise Refused(f"magic is {magic!r}, not b'GGUF'")
    version = await cursor.u32("version")
    if version not in SUPPORTED_VERSIONS:
        hint = " (big-endian?)" if version and not version & 0xFFFF else ""
        raise Refused(f"GGUF version {version} is not one of {SUPPORTED_VERSIONS}{hint}")
    n_tensors = await cursor.u64("tensor count")
    n_kv = await cursor.u64("metadata key count")
    if n_kv * MIN_KV_BYTES + n_tensors * MIN_TENSOR_INFO_BYTES > cursor.remaining:
        raise Refused(
            f"{n_kv} metadata keys and {n_tensors} tensors cannot fit in {cursor.size} bytes"
        )
    alignment = await _metadata(cursor, n_kv)
    tensors = await _tensor_infos(cursor, n_tensors)
    data_start = _pad(cursor.position, alignment)
    if tensors and data_start > cursor.size:
        raise Refused(f"the data section would start at {data_start}, past the end of the file")
    data_bytes = _check_layout(tensors, data_start, alignment, cursor.size)
    return (
        f"GGUF v{version}, {n_kv} metadata keys, {n_tensors} tensors, "
        f"{data_bytes} data bytes aligned to {alignment}, all inside the file"
    )


async def inspect(reader: Reader, uri: str, size: int) -> tuple[list[str], str]:
    cursor = RangeCursor(reader, uri, size)
    try:
        return [], await check(cursor)
    except Refused as exc:
        return [str(exc)], ""
    except Truncated as exc:
        return [f"truncated: {exc}"], ""
