"""GGUF: magic `GGUF`, a version, the tensor count and the metadata key count, little-endian."""

from __future__ import annotations

import struct

from modelgate_validator.artifact_reader import Reader

SUPPORTED_VERSIONS = (2, 3)
MAX_COUNT = 1_000_000  # far beyond any real model; guards readers that preallocate


def check_prefix(prefix: bytes, size: int) -> tuple[list[str], str]:
    if len(prefix) < 24:
        return [f"{size} bytes is too short for a GGUF header"], ""
    magic, version, tensors, keys = struct.unpack("<4sIQQ", prefix[:24])
    if magic != b"GGUF":
        return [f"magic is {magic!r}, not b'GGUF'"], ""
    problems = []
    if version not in SUPPORTED_VERSIONS:
        problems.append(f"GGUF version {version} is not one of {SUPPORTED_VERSIONS}")
    if tensors > MAX_COUNT:
        problems.append(f"tensor count {tensors} is implausible")
    if keys > MAX_COUNT:
        problems.append(f"metadata key count {keys} is implausible")
    return problems, f"GGUF v{version}, {tensors} tensors, {keys} metadata keys"


async def inspect(reader: Reader, uri: str, size: int) -> tuple[list[str], str]:
    return check_prefix(await reader.read_range(uri, 0, min(size, 24)), size)
