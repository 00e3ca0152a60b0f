"""Generated and mutated GGUF files for the differential test, from a seeded generator.

Files are written by hand (not with `GGUFWriter`) so that every length and count can lie:
serializing records where each field lies (`Mark`), and a mutation overwrites one of them.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field

from modelgate_validator.formats.gguf_types import SCALAR_BYTES, TENSOR_TYPES, ValueType

SCALAR_FORMATS = {
    ValueType.UINT8: "<B",
    ValueType.INT8: "<b",
    ValueType.UINT16: "<H",
    ValueType.INT16: "<h",
    ValueType.UINT32: "<I",
    ValueType.INT32: "<i",
    ValueType.FLOAT32: "<f",
    ValueType.BOOL: "<B",
    ValueType.UINT64: "<Q",
    ValueType.INT64: "<q",
    ValueType.FLOAT64: "<d",
}
KEYS = [
    b"general.architecture",
    b"general.name",
    b"llama.context_length",
    b"tokenizer.ggml.tokens",
    b"tokenizer.ggml.scores",
    b"x",
    "ключ".encode(),
    b"general.file_type",
    b"a.b.c",
]


MAX_WRITTEN_DATA = 1 << 20


@dataclass(frozen=True)
class Mark:
    label: str
    offset: int
    width: int  # 4 or 8 bytes, little-endian unsigned


@dataclass
class KV:
    key: bytes
    vtype: int
    value: object  # scalar number, bytes (string), or (element type, list) for arrays


@dataclass
class Tensor:
    name: bytes
    dims: list[int]
    type_id: int
    offset: int | None = None  # None: where the layout puts it


@dataclass
class Model:
    version: int = 3
    kvs: list[KV] = field(default_factory=list)
    tensors: list[Tensor] = field(default_factory=list)
    alignment: int = 32
    tail: int = 0  # bytes after the last tensor's data (negative: cut)
    sparse: bool = False  # data left as a hole: only the header is written


class Writer:
    def __init__(self) -> None:
        self.out = bytearray()
        self.marks: list[Mark] = []

    def u(self, value: int, width: int, label: str) -> None:
        self.marks.append(Mark(label, len(self.out), width))
        self.out += value.to_bytes(width, "little", signed=False)

    def string(self, data: bytes, label: str) -> None:
        self.u(len(data), 8, label)
        self.out += data


def _value(w: Writer, vtype: int, value: object) -> None:
    if vtype == ValueType.STRING:
        assert isinstance(value, bytes)
        w.string(value, "string length")
    elif vtype == ValueType.ARRAY:
        assert isinstance(value, tuple)
        element, items = value
        w.u(element, 4, "array element type")
        w.u(len(items), 8, "array length")
        for item in items:
            _value(w, element, item)
    elif vtype in SCALAR_FORMATS:
        fmt = SCALAR_FORMATS[ValueType(vtype)]
        if fmt in ("<f", "<d"):
            w.out += struct.pack(fmt, value)
        else:  # integers wrap to the field's width, signed or not
            assert isinstance(value, int)
            width = struct.calcsize(fmt)
            w.out += (value % 2 ** (width * 8)).to_bytes(width, "little")
    else:
        w.out += bytes(4)  # an unknown type's "value": whatever follows


def tensor_bytes(t: Tensor) -> int:
    count = 1
    for size in t.dims:
        count *= size
    kind = TENSOR_TYPES.get(t.type_id)
    return count if kind is None else count // kind.block * kind.block_bytes


def serialize(m: Model, rng: random.Random) -> tuple[bytes, list[Mark], int]:
    """The file's bytes (data section cut short for sparse files), its marks, its size."""
    w = Writer()
    w.out += b"GGUF"
    w.u(m.version, 4, "version")
    w.u(len(m.tensors), 8, "tensor count")
    w.u(len(m.kvs), 8, "key count")
    for kv in m.kvs:
        w.string(kv.key, "key length")
        w.u(kv.vtype, 4, "value type")
        _value(w, kv.vtype, kv.value)
    position = 0
    layout = []
    for t in m.tensors:
        w.string(t.name, "name length")
        w.u(len(t.dims), 4, "dimension count")
        for size in t.dims:
            w.u(size, 8, "dimension")
        w.u(t.type_id, 4, "tensor type")
        offset = position if t.offset is None else t.offset
        w.u(offset, 8, "tensor offset")
        layout.append((offset, tensor_bytes(t)))
        position += -(-tensor_bytes(t) // m.alignment) * m.alignment
    header_end = len(w.out)
    data_start = -(-header_end // m.alignment) * m.alignment
    end = max((o + n for o, n in layout), default=0)
    size = data_start + end + m.tail
    if m.sparse:
        return bytes(w.out) + bytes(data_start - header_end), w.marks, size
    # Absurd declared sizes or alignments (2^31) make a truncated file, not gigabytes.
    size = min(size, header_end + MAX_WRITTEN_DATA)
    w.out += bytes(max(min(data_start, size) - header_end, 0))
    w.out += rng.randbytes(max(size - len(w.out), 0))
    data = bytes(w.out[: max(size, 0)])
    return data, w.marks, len(data)


def _scalar(rng: random.Random, vtype: ValueType) -> object:
    fmt = SCALAR_FORMATS[vtype]
    if fmt in ("<f", "<d"):
        return rng.uniform(-1e3, 1e3)
    if vtype == ValueType.BOOL:
        return rng.randrange(2)
    bits = struct.calcsize(fmt) * 8
    return rng.randrange(2 ** (bits - 1)) if fmt.islower() else rng.randrange(2**bits)


def random_kv(rng: random.Random, key: bytes) -> KV:
    vtype = rng.choice([*SCALAR_BYTES, ValueType.STRING, ValueType.ARRAY])
    if vtype == ValueType.STRING:
        return KV(key, vtype, rng.choice([b"", b"llama", "ünï".encode(), b"\xff\xfe", b"x" * 70]))
    if vtype == ValueType.ARRAY:
        element = rng.choice([*SCALAR_BYTES, ValueType.STRING])
        items: list[object] = [
            rng.choice([b"<s>", b"", b"\xe2\x96\x81a"])
            if element == ValueType.STRING
            else _scalar(rng, ValueType(element))
            for _ in range(rng.randint(0, 6))
        ]
        return KV(key, vtype, (element, items))
    return KV(key, vtype, _scalar(rng, ValueType(vtype)))


def random_tensor(rng: random.Random, name: bytes, type_id: int | None = None) -> Tensor:
    type_id = rng.choice(sorted(TENSOR_TYPES)) if type_id is None else type_id
    kind = TENSOR_TYPES[type_id]
    n_dims = rng.randint(0 if kind.plain else 1, 4)
    dims = [rng.choice([1, 2, 3]) for _ in range(n_dims)]
    if n_dims:
        dims[0] = kind.block * rng.choice([1, 1, 2]) if kind.block > 1 else rng.choice([1, 2, 5])
        if rng.random() < 0.1:
            dims[rng.randrange(n_dims)] = 0
    return Tensor(name, dims, type_id)


def valid(rng: random.Random, type_id: int | None = None) -> Model:
    m = Model(version=rng.choice([3, 3, 2]))
    for key in rng.sample(KEYS, rng.randint(0, 5)):
        m.kvs.append(random_kv(rng, key))
    if rng.random() < 0.4:
        m.alignment = rng.choice([1, 8, 16, 32, 64, 256])
        m.kvs.insert(
            rng.randrange(len(m.kvs) + 1), KV(b"general.alignment", ValueType.UINT32, m.alignment)
        )
    names = rng.sample(
        [
            b"token_embd.weight",
            b"blk.0.attn_q.weight",
            b"output_norm.weight",
            b"",
            b"w",
            "вес".encode(),
            b"n" * 63,
        ],
        rng.randint(0, 4),
    )
    if type_id is not None:
        names.append(b"forced")
    for name in names:
        m.tensors.append(random_tensor(rng, name, type_id if name == b"forced" else None))
    m.tail = rng.choice([0, 0, 0, 1, 7, 31])
    return m


RETIRED_OR_UNKNOWN_TYPES = [4, 5, 31, 33, 36, 38, 42, 43, 99, 2**31, 2**32 - 1]


def mutate_model(m: Model, rng: random.Random) -> str:
    """A structural change that a writer could make; returns what it did."""
    choice = rng.randrange(20)
    if choice == 0:
        m.version = rng.choice([0, 1, 2, 4, 0x03000000, 0x02000000, 2**32 - 1])
        return f"version {m.version}"
    if choice == 1 and m.kvs:
        kv = rng.choice(m.kvs)
        m.kvs.insert(rng.randrange(len(m.kvs) + 1), KV(kv.key, ValueType.UINT8, 1))
        return "duplicate key"
    if choice == 2:
        key = rng.choice(
            [
                b"",
                b"GGUF.version",
                b"GGUF.kv_count",
                b"\xff\xfekey",
                b"k\xc3",
                b"\xed\xa0\x80",
                b"k" * 300,
                b"k\x00z",
            ]
        )
        m.kvs.insert(rng.randrange(len(m.kvs) + 1), random_kv(rng, key))
        return f"key {key[:20]!r}"
    if choice == 3:
        inner: list[object] = [(ValueType.UINT8, [1, 2])] * rng.randint(0, 2)
        nested: tuple[int, list[object]] = (ValueType.ARRAY, inner)
        element = rng.choice([13, 99, 2**32 - 1])
        array: tuple[int, list[object]] = rng.choice([nested, (element, [])])
        m.kvs.append(KV(b"nested", ValueType.ARRAY, array))
        return f"array of type {array[0]}"
    if choice == 4:
        m.kvs.append(KV(b"odd", rng.choice([13, 14, 2**31, 2**32 - 1]), 0))
        return "unknown value type"
    if choice == 5:
        m.kvs = [kv for kv in m.kvs if kv.key != b"general.alignment"]
        alignment = rng.choice([0, 3, 48, 1, 2**31, 64])
        vtype = rng.choice(
            [
                ValueType.UINT32,
                ValueType.UINT32,
                ValueType.UINT64,
                ValueType.INT32,
                ValueType.ARRAY,
                ValueType.UINT8,
            ]
        )
        if vtype == ValueType.ARRAY:
            m.kvs.append(KV(b"general.alignment", vtype, (ValueType.UINT32, [alignment])))
        else:
            m.kvs.append(KV(b"general.alignment", vtype, alignment))
        if vtype == ValueType.UINT32 and alignment and not alignment & (alignment - 1):
            m.alignment = alignment
        return f"general.alignment {vtype.name} {alignment}"
    if choice == 6:
        name = rng.choice([b"n" * 64, b"n" * 63, b"\xff", b"\xc3", b"ok", b"", b"\xed\xa0\x80"])
        m.tensors.insert(rng.randrange(len(m.tensors) + 1), random_tensor(rng, name))
        return f"tensor name {name[:10]!r}.. ({len(name)} bytes)"
    if choice == 7 and m.tensors:
        t = rng.choice(m.tensors)
        m.tensors.insert(rng.randrange(len(m.tensors) + 1), Tensor(t.name, [1], 0))
        return "duplicate tensor name"
    if choice == 8:
        t = random_tensor(rng, b"dims")
        t.dims = rng.choice(
            [
                [1, 1, 1, 1, 1],
                [2, 2, 2, 2, 1, 1],
                [2**63],
                [2**63 - 1, 2],
                [2**62, 2],
                [2**31, 2**31, 2],
                [0, 2**62, 4],
                [0, 2**61, 2**3],
                [2**40, 2**40, 0],
                [0, 2**63 - 1],
                [0, 2**60, 16],
            ]
        )
        t.type_id = rng.choice([0, 1, 24, 28, 2, 30])
        m.tensors.append(t)
        return f"dims {t.dims} type {t.type_id}"
    if choice == 9:
        t = random_tensor(rng, b"row")
        kind = TENSOR_TYPES[t.type_id]
        t.dims = rng.choice([[], [kind.block + 1], [kind.block // 2 or 3, 2], [0]])
        m.tensors.append(t)
        return f"row {t.dims} for {kind.name}"
    if choice == 10:
        t = random_tensor(rng, b"type", 0)
        t.type_id = rng.choice(RETIRED_OR_UNKNOWN_TYPES)
        m.tensors.append(t)
        return f"tensor type {t.type_id}"
    if choice == 11 and m.tensors:
        t = rng.choice(m.tensors)
        t.offset = rng.choice([1, 3, 16, 32, 64, 2**63, 2**64 - 1])
        return f"tensor offset {t.offset}"
    if choice == 12 and len(m.tensors) > 1:
        i = rng.randrange(len(m.tensors) - 1)
        m.tensors[i], m.tensors[i + 1] = m.tensors[i + 1], m.tensors[i]
        a, b = m.tensors[i], m.tensors[i + 1]
        a.offset, b.offset = (32 if tensor_bytes(b) else 0), 0  # listed out of order
        return "tensors listed out of data order"
    if choice == 13:
        m.tail = -rng.randint(1, 40)
        return f"data cut by {-m.tail}"
    if choice == 14:
        m.tail = rng.randint(1, 100)
        return "trailing bytes"
    if choice == 15:
        m.tensors.append(Tensor(b"empty", [0, 4], rng.choice([0, 2, 30])))
        m.tail = rng.choice([-1, 0, -32])
        return "zero-size tensor at the end"
    if choice == 16:
        m.kvs.append(KV(b"big", ValueType.ARRAY, (ValueType.UINT8, [0] * 64)))
        return "long array"
    if choice == 17:
        m.kvs.append(
            KV(
                b"strings",
                ValueType.ARRAY,
                (ValueType.STRING, [b"a" * rng.randint(0, 40) for _ in range(30)]),
            )
        )
        return "array of strings"
    if choice == 18:
        t = random_tensor(rng, b"q8_1", 9)
        m.tensors.append(t)
        m.tail = rng.choice([0, 4, 8, 40])
        return "Q8_1 tensor last"
    m.tensors = []
    m.tail = rng.choice([0, 0, 5])
    return "no tensors"


CANDIDATES = [0, 1, 2, 3, 4, 5, 9, 13, 2**30, 2**30 + 1, 2**31, 2**32 - 1, 2**40, 2**63, 2**64 - 1]


def mutate_marks(data: bytes, marks: list[Mark], rng: random.Random) -> tuple[bytes, str]:
    """Overwrite one length, count, type or offset the header declares."""
    mark = rng.choice(marks)
    old = int.from_bytes(data[mark.offset : mark.offset + mark.width], "little")
    new = rng.choice([old + 1, max(old - 1, 0), old + 8, old * 2, *CANDIDATES])
    new %= 2 ** (mark.width * 8)
    out = bytearray(data)
    out[mark.offset : mark.offset + mark.width] = new.to_bytes(mark.width, "little")
    return bytes(out), f"{mark.label} {old} -> {new}"


def mutate_bytes(data: bytes, header_end: int, rng: random.Random) -> tuple[bytes, str]:
    choice = rng.randrange(3)
    if choice == 0:
        cut = rng.randrange(len(data) + 1)
        return data[:cut], f"truncated at {cut} of {len(data)}"
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        out[rng.randrange(max(header_end, 1))] = rng.randrange(256)
    return bytes(out[: len(data)]), "header bytes flipped"
