"""Pickle-based files (.bin, .pt, .pth, .ckpt, .pkl, torch zip archives): scanned by
picklescan, which reads the opcodes and lists the globals a load would import. Nothing is ever
unpickled. A dangerous global (os.system, builtins.eval, ...) fails the file; so does an
unknown ("suspicious") one, since whoever deploys the model will `torch.load` it."""

from __future__ import annotations

import asyncio
from pathlib import Path, PurePosixPath

from picklescan.scanner import SafetyLevel, scan_file_path

from modelgate_validator.artifact_reader import Reader

SUFFIXES = {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".dat"}


def looks_like_pickle(prefix: bytes) -> bool:
    """Pickle protocol 2-5 header, or a zip archive (PyTorch's format wraps a pickle)."""
    return (len(prefix) >= 2 and prefix[0] == 0x80 and 2 <= prefix[1] <= 5) or prefix.startswith(
        b"PK\x03\x04"
    )


def scan_local(path: Path, *, must_be_pickle: bool = True) -> tuple[list[str], str]:
    """Problems found in a local file. With `must_be_pickle` false (files that are not meant to
    be pickles) only imports count; a parse error just means it is not a pickle."""
    result = scan_file_path(str(path))
    dangerous = [
        f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Dangerous
    ]
    suspicious = [
        f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Suspicious
    ]
    problems = []
    if dangerous:
        problems.append(f"dangerous pickle imports: {', '.join(sorted(set(dangerous)))}")
    if suspicious:
        problems.append(f"unknown pickle imports: {', '.join(sorted(set(suspicious)))}")
    if result.scan_err and not problems and must_be_pickle:
        problems.append("could not be parsed as a pickle; refusing what cannot be checked")
    if not must_be_pickle and not result.globals:
        return problems, ""
    return (
        problems,
        f"pickle scanned ({result.scanned_files} pickles, {len(result.globals)} imports)",
    )


async def inspect(
    reader: Reader, uri: str, path: str, work_dir: Path, *, must_be_pickle: bool = True
) -> tuple[list[str], str]:
    local = work_dir / f"scan{PurePosixPath(path).suffix}"
    await reader.download(uri, local)
    try:
        return await asyncio.to_thread(scan_local, local, must_be_pickle=must_be_pickle)
    finally:
        local.unlink(missing_ok=True)
