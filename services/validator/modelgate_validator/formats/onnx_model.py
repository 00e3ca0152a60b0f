"""ONNX: the `onnx` checker on a local copy, and external data that stays inside the artifact."""

from __future__ import annotations

import asyncio
from pathlib import Path, PurePosixPath

import onnx
from onnx import TensorProto

from modelgate_validator.artifact_reader import Reader


def _tensors(model: onnx.ModelProto) -> list[TensorProto]:
    found = list(model.graph.initializer)
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                found.append(attr.t)
            found.extend(attr.tensors)
    return found


def _external(model: onnx.ModelProto) -> list[tuple[str, str]]:
    """(tensor name, location) of every tensor whose data lives in another file."""
    return [
        (t.name, next((e.value for e in t.external_data if e.key == "location"), ""))
        for t in _tensors(model)
        if t.data_location == TensorProto.EXTERNAL
    ]


def _external_problems(model: onnx.ModelProto, model_path: str, files: set[str]) -> list[str]:
    problems = []
    base = PurePosixPath(model_path).parent
    for name, location in _external(model):
        target = PurePosixPath(location)
        if not location or target.is_absolute() or ".." in target.parts or "\\" in location:
            problems.append(
                f"tensor {name!r}: external data location {location!r} escapes the artifact"
            )
        elif str(base / target) not in files:
            problems.append(
                f"tensor {name!r}: external data {location!r} is not a file of the artifact"
            )
    return problems


def load_header(path: Path) -> onnx.ModelProto:
    """The graph without external tensor data (never follows a location)."""
    return onnx.load(str(path), load_external_data=False)


def check_local(path: Path, model_path: str, artifact_files: set[str]) -> tuple[list[str], str]:
    """Check a local copy whose external data files, if any, sit beside it as in the artifact.

    External-data locations are proven to stay inside the artifact before the checker, which
    follows them on this disk, ever sees the path.
    """
    try:
        model = load_header(path)
    except Exception as exc:  # DecodeError and friends: not an ONNX protobuf at all
        return [f"onnx checker: cannot parse the model: {exc}"[:500]], ""
    problems = _external_problems(model, model_path, artifact_files)
    if problems:
        return problems, ""
    try:
        onnx.checker.check_model(str(path))
    except Exception as exc:  # ValidationError and others all mean "not valid ONNX"
        return [f"onnx checker: {exc}"[:500]], ""
    opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
    return [], (
        f"valid ONNX (ir {model.ir_version}; {opsets}; {len(_external(model))} external tensors)"
    )


async def inspect(
    reader: Reader, uri: str, model_path: str, artifact: dict[str, str], work_dir: Path
) -> tuple[list[str], str]:
    """`artifact` maps each file's path in the artifact to its S3 URI."""
    root = work_dir / "onnx"
    local = root / model_path
    local.parent.mkdir(parents=True, exist_ok=True)
    await reader.download(uri, local)
    try:
        model = await asyncio.to_thread(load_header, local)
    except Exception as exc:
        return [f"onnx checker: cannot parse the model: {exc}"[:500]], ""
    problems = _external_problems(model, model_path, set(artifact))
    if problems:
        return problems, ""
    base = PurePosixPath(model_path).parent
    for location in {loc for _, loc in _external(model)}:
        inside = str(base / location)
        target = root / inside
        target.parent.mkdir(parents=True, exist_ok=True)
        await reader.download(artifact[inside], target)
    return await asyncio.to_thread(check_local, local, model_path, set(artifact))
