"""The GGUF value types and the ggml tensor types, with the sizes the structural check needs.

Tensor types are those both reference readers know, llama.cpp's ggml (`ggml_blck_size`,
`ggml_type_size`) and the `gguf` package (`GGML_QUANT_SIZES`); a unit test holds this table to
both. Ids ggml has retired (4, 5, 31-33, 36-38) and ids only a newer ggml knows are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ValueType(IntEnum):
    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


SCALAR_BYTES = {
    ValueType.UINT8: 1,
    ValueType.INT8: 1,
    ValueType.UINT16: 2,
    ValueType.INT16: 2,
    ValueType.UINT32: 4,
    ValueType.INT32: 4,
    ValueType.FLOAT32: 4,
    ValueType.BOOL: 1,
    ValueType.UINT64: 8,
    ValueType.INT64: 8,
    ValueType.FLOAT64: 8,
}


@dataclass(frozen=True)
class TensorType:
    name: str
    block: int
    """Elements per block: a row's length must be a multiple of it."""
    block_bytes: int
    plain: bool = False
    """Read by the `gguf` package as numbers of this width (else as raw bytes)."""


TENSOR_TYPES = {
    0: TensorType("F32", 1, 4, plain=True),
    1: TensorType("F16", 1, 2, plain=True),
    2: TensorType("Q4_0", 32, 18),
    3: TensorType("Q4_1", 32, 20),
    6: TensorType("Q5_0", 32, 22),
    7: TensorType("Q5_1", 32, 24),
    8: TensorType("Q8_0", 32, 34),
    9: TensorType("Q8_1", 32, 36),
    10: TensorType("Q2_K", 256, 84),
    11: TensorType("Q3_K", 256, 110),
    12: TensorType("Q4_K", 256, 144),
    13: TensorType("Q5_K", 256, 176),
    14: TensorType("Q6_K", 256, 210),
    15: TensorType("Q8_K", 256, 292),
    16: TensorType("IQ2_XXS", 256, 66),
    17: TensorType("IQ2_XS", 256, 74),
    18: TensorType("IQ3_XXS", 256, 98),
    19: TensorType("IQ1_S", 256, 50),
    20: TensorType("IQ4_NL", 32, 18),
    21: TensorType("IQ3_S", 256, 110),
    22: TensorType("IQ2_S", 256, 82),
    23: TensorType("IQ4_XS", 256, 136),
    24: TensorType("I8", 1, 1, plain=True),
    25: TensorType("I16", 1, 2, plain=True),
    26: TensorType("I32", 1, 4, plain=True),
    27: TensorType("I64", 1, 8, plain=True),
    28: TensorType("F64", 1, 8, plain=True),
    29: TensorType("IQ1_M", 256, 56),
    30: TensorType("BF16", 1, 2),
    34: TensorType("TQ1_0", 256, 54),
    35: TensorType("TQ2_0", 256, 66),
    39: TensorType("MXFP4", 32, 17),
    40: TensorType("NVFP4", 64, 36),
    41: TensorType("Q1_0", 128, 18),
}
READER_BLOCK_BYTES = {9: 40}
"""Where the `gguf` package's block size differs from ggml's: it reads a Q8_1 block as 40 bytes
(ggml's block_q8_1 is 36), so a Q8_1 tensor must have room for both readings."""
