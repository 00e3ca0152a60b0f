"""How a file is cut into S3 multipart parts, and the checksum encodings S3 speaks."""

from __future__ import annotations

import base64
import hashlib

from modelgate_shared.errors import ApiError

MiB = 1024 * 1024
MAX_PARTS = 10_000
"""S3's limit of parts per multipart upload."""
MAX_PART_BYTES = 5 * 1024 * MiB
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def plan_part_size(size: int, minimum: int) -> int:
    """The smallest multiple of 1 MiB, at least `minimum`, that fits `size` in 10,000 parts."""
    needed = -(-size // MAX_PARTS)
    part = max(minimum, -(-needed // MiB) * MiB)
    if part > MAX_PART_BYTES:
        raise ApiError(413, f"a file of {size} bytes does not fit in {MAX_PARTS} parts of 5 GiB")
    return part


def part_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size)) if size else 0


def part_length(size: int, part_size: int, number: int) -> int:
    return min(part_size, size - (number - 1) * part_size)


def checksum_b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def checksum_hex(b64: str | None) -> str | None:
    return base64.b64decode(b64).hex() if b64 else None
