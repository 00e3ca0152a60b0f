"""ONNX: the `onnx` checker on a local copy, and external data that stays inside the artifact.

A model passes when `onnx.load` and `onnx.checker.check_model` would both accept it; the
checker alone lets through external data that `onnx.load` then refuses (an offset or length
that is not a non-negative integer, or that runs past the data file), so those are checked
here too, from the files' sizes, without reading the data. Locations are resolved as onnx
resolves them (lexically, relative to the model's folder, up to a NUL) and must name a file of
the artifact; besides, a location whose backslash-separated reading climbs out with `..` is
refused, since that is how a Windows runtime would read it.
"""

from __future__ import annotations

import asyncio
import posixpath
import warnings
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import cast

import onnx
from onnx import AttributeProto, FunctionProto, GraphProto, TensorProto
from onnx.external_data_helper import ExternalDataInfo

from modelgate_validator.artifact_reader import Reader


def _graph_tensors(
    graph: GraphProto | FunctionProto, *, initializers: bool
) -> Iterator[TensorProto]:
    """Every tensor onnx.load would fill from external data: initializers and attribute
    tensors, in subgraphs too (the walk of `onnx.external_data_helper._get_all_tensors`)."""
    if initializers and isinstance(graph, GraphProto):
        yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if not initializers:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors
            if attr.type == AttributeProto.GRAPH:
                yield from _graph_tensors(attr.g, initializers=initializers)
            if attr.type == AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from _graph_tensors(sub, initializers=initializers)


def _tensors(model: onnx.ModelProto) -> Iterator[TensorProto]:
    yield from _graph_tensors(model.graph, initializers=True)
    yield from _graph_tensors(model.graph, initializers=False)
    for function in model.functions:
        yield from _graph_tensors(function, initializers=False)


def _external(model: onnx.ModelProto) -> list[TensorProto]:
    return [t for t in _tensors(model) if t.data_location == TensorProto.EXTERNAL]


def _info(tensor: TensorProto) -> ExternalDataInfo | str:
    """onnx's own reading of a tensor's external-data entries (it warns of unknown keys)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ExternalDataInfo(tensor)
        except ValueError as exc:
            return f"tensor {tensor.name!r}: external data: {exc}"[:300]


def resolve(model_path: str, raw: str | bytes) -> str | None:
    """The artifact path a location names, or None where it escapes the artifact."""
    # onnx hands the location to C as a C string: it ends at the first NUL. protobuf gives
    # bytes for a string field that is not UTF-8; such a name is no S3 key of ours.
    if isinstance(raw, bytes):
        raw = raw.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")
    location = raw.split("\x00", 1)[0]
    windows = PurePosixPath(location.replace("\\", "/"))
    if not location or location.startswith("/") or (".." in windows.parts and "\\" in location):
        return None
    inside = posixpath.normpath(posixpath.join(str(PurePosixPath(model_path).parent), location))
    if inside == ".." or inside.startswith(("../", "/")):
        return None
    return inside


def _locations(tensor: TensorProto) -> list[str | bytes]:
    """Every location entry: the checker requires each to name a file, `onnx.load` reads
    from the last."""
    return [e.value for e in tensor.external_data if e.key == "location"]


def _external_problems(model: onnx.ModelProto, model_path: str, sizes: dict[str, int]) -> list[str]:
    """`sizes` maps each file of the artifact to its size in bytes."""
    problems = []
    for tensor in _external(model):
        info = _info(tensor)
        if isinstance(info, str):
            problems.append(info)
            continue
        for location in _locations(tensor) or [""]:
            inside = resolve(model_path, location)
            if not location:
                problems.append(f"tensor {tensor.name!r}: external data has no location")
            elif inside is None:
                problems.append(
                    f"tensor {tensor.name!r}: external data location {location!r} escapes the "
                    "artifact"
                )
            elif inside not in sizes:
                problems.append(
                    f"tensor {tensor.name!r}: external data {location!r} is not a file of the "
                    "artifact"
                )
        last = resolve(model_path, info.location)
        if not problems and last is not None:
            problems += _bounds(tensor.name, info, sizes[last])
    return problems


def _bounds(name: str, info: ExternalDataInfo, size: int) -> list[str]:
    """onnx.load's own bounds (`_validate_external_data_file_bounds`), from the size alone."""
    # ExternalDataInfo declares them None; its constructor makes them ints when present.
    declared_offset = cast("int | None", info.offset)
    length = cast("int | None", info.length)
    offset = declared_offset or 0
    if declared_offset is not None and offset > size:
        return [f"tensor {name!r}: external data offset {offset} is past its {size}-byte file"]
    if length is not None and length > size - offset:
        return [
            f"tensor {name!r}: external data length {length} at offset {offset} runs "
            f"past its {size}-byte file"
        ]
    return []


def load_header(path: Path) -> onnx.ModelProto:
    """The graph without external tensor data (never follows a location)."""
    return onnx.load(str(path), load_external_data=False)


def _local_sizes(path: Path, model_path: str, artifact_files: set[str]) -> dict[str, int]:
    """Sizes of the artifact's files that have a local copy, laid out relative to the model
    as in the artifact (a file without one cannot be checked, so it counts as absent)."""
    base = str(PurePosixPath(model_path).parent)
    sizes = {}
    for name in artifact_files:
        local = path.parent / posixpath.relpath(name, base)
        if local.is_file():
            sizes[name] = local.stat().st_size
    return sizes


def check_local(path: Path, model_path: str, artifact_files: set[str]) -> tuple[list[str], str]:
    """Check a local copy whose external data files, if any, sit beside it as in the artifact.

    External-data locations are proven to stay inside the artifact before the checker, which
    follows them on this disk, ever sees the path.
    """
    try:
        model = load_header(path)
    except Exception as exc:  # DecodeError and friends: not an ONNX protobuf at all
        return [f"onnx checker: cannot parse the model: {exc}"[:500]], ""
    problems = _external_problems(model, model_path, _local_sizes(path, model_path, artifact_files))
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
    wanted = {
        inside
        for tensor in _external(model)
        for location in _locations(tensor)
        if (inside := resolve(model_path, location)) is not None and inside in artifact
    }
    for inside in wanted:
        target = root / inside
        target.parent.mkdir(parents=True, exist_ok=True)
        await reader.download(artifact[inside], target)
    return await asyncio.to_thread(check_local, local, model_path, set(artifact))
