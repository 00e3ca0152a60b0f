"""Generated and mutated ONNX models (with their external data files) for the differential
test, from a seeded generator. A case is a folder's worth of files: path -> bytes."""

from __future__ import annotations

import random

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MODEL = "model.onnx"
Files = dict[str, bytes]


def _weight(rng: random.Random, name: str, shape: list[int], dtype: type) -> TensorProto:
    values: np.ndarray = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) + rng.randint(
        0, 9
    )
    return numpy_helper.from_array(values, name)


def _matmul(rng: random.Random) -> onnx.GraphProto:
    n = rng.randint(1, 4)
    return helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["H"]), helper.make_node("Add", ["H", "B"], ["Y"])],
        "matmul",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, n])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, n])],
        initializer=[_weight(rng, "W", [n, n], np.float32), _weight(rng, "B", [n], np.float32)],
    )


def _constant(rng: random.Random) -> onnx.GraphProto:
    size = rng.randint(1, 3)
    value = _weight(rng, "c", [size], np.float32)
    return helper.make_graph(
        [
            helper.make_node("Constant", [], ["C"], value=value),
            helper.make_node("Relu", ["C"], ["Y"]),
        ],
        "constant",
        [],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [size])],
    )


def _branch(rng: random.Random, name: str) -> onnx.GraphProto:
    return helper.make_graph(
        [helper.make_node("Identity", [f"{name}_w"], [f"{name}_out"])],
        name,
        [],
        [helper.make_tensor_value_info(f"{name}_out", TensorProto.FLOAT, [2])],
        initializer=[_weight(rng, f"{name}_w", [2], np.float32)],
    )


def _if(rng: random.Random) -> onnx.GraphProto:
    return helper.make_graph(
        [
            helper.make_node(
                "If",
                ["cond"],
                ["Y"],
                then_branch=_branch(rng, "then"),
                else_branch=_branch(rng, "else"),
            )
        ],
        "if",
        [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2])],
    )


def _cast(rng: random.Random) -> onnx.GraphProto:
    return helper.make_graph(
        [
            helper.make_node("Cast", ["I"], ["F"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["F", "S"], ["Y"]),
        ],
        "cast",
        [],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [3])],
        initializer=[_weight(rng, "I", [3], np.int64), _weight(rng, "S", [3], np.float32)],
    )


GRAPHS = [_matmul, _constant, _if, _cast]


def _all_tensors(model: onnx.ModelProto) -> list[TensorProto]:
    found = list(model.graph.initializer)
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                found.append(attr.t)
            if attr.HasField("g"):
                found.extend(attr.g.initializer)
    return found


def _externalize(model: onnx.ModelProto, rng: random.Random, files: Files) -> None:
    """Move some tensors' bytes into one or two data files, at honest offsets."""
    targets = [rng.choice(["weights.bin", "data/w.bin"]) for _ in range(2)]
    for tensor in _all_tensors(model):
        if rng.random() < 0.6:
            raw = numpy_helper.to_array(tensor).tobytes()
            target = rng.choice(targets)
            offset = len(files.get(target, b""))
            files[target] = files.get(target, b"") + raw
            for field in ("float_data", "int64_data", "raw_data"):
                tensor.ClearField(field)
            tensor.data_location = TensorProto.EXTERNAL
            del tensor.external_data[:]
            entries = [("location", target), ("offset", str(offset)), ("length", str(len(raw)))]
            if rng.random() < 0.3:
                entries = [e for e in entries if e[0] != "offset" or offset == 0]
            for key, value in entries:
                tensor.external_data.add(key=key, value=value)


def valid(rng: random.Random) -> tuple[onnx.ModelProto, Files]:
    opset, lowest_ir = rng.choice([(13, 7), (17, 8), (21, 10)])
    model = helper.make_model(
        rng.choice(GRAPHS)(rng), opset_imports=[helper.make_opsetid("", opset)]
    )
    model.ir_version = rng.randint(lowest_ir, 10)
    files: Files = {}
    if rng.random() < 0.6:
        _externalize(model, rng, files)
    return model, files


def _externals(model: onnx.ModelProto) -> list[TensorProto]:
    return [t for t in _all_tensors(model) if t.data_location == TensorProto.EXTERNAL]


def _set_entry(tensor: TensorProto, key: str, value: str, *, replace: bool = True) -> None:
    if replace:
        kept = [(e.key, e.value) for e in tensor.external_data if e.key != key]
        del tensor.external_data[:]
        for k, v in kept:
            tensor.external_data.add(key=k, value=v)
    tensor.external_data.add(key=key, value=value)


LOCATIONS = [
    "../weights.bin",
    "/etc/hostname",
    "",
    "nosuch.bin",
    "data",
    ".",
    "weights.bin\x00x",
    "./weights.bin",
    "data/../weights.bin",
    "nosuch/../weights.bin",
    "data//w.bin",
    "..\\weights.bin",
    "data\\w.bin",
    "a\\..\\..\\weights.bin",
    "data/./w.bin",
]
NUMBERS = ["-1", "abc", "", " 16", "+0", "1_0", "16.0", "0x10", str(2**63), "0", "4", "999999"]


def mutate(model: onnx.ModelProto, files: Files, rng: random.Random) -> str:
    """One change to the model or its data files; returns what it did."""
    externals = _externals(model)
    choice = rng.randrange(10) if externals else rng.randrange(4, 10)
    if choice < 4 and externals:
        tensor = rng.choice(externals)
        if choice == 0:
            location = rng.choice(LOCATIONS)
            _set_entry(tensor, "location", location)
            return f"location {location!r}"
        key = rng.choice(["offset", "length"])
        if choice == 1:
            value = rng.choice(NUMBERS)
            _set_entry(tensor, key, value)
            return f"{key} {value!r}"
        current = next((int(e.value) for e in tensor.external_data if e.key == key), 0)
        if choice == 2:
            value = str(current + rng.choice([-1, 1, 8, -4]))
            _set_entry(tensor, key, value, replace=rng.random() < 0.7)
            return f"{key} {current} -> {value}"
        extra = rng.choice(["checksum", "basepath", "foo", "location"])
        _set_entry(tensor, extra, "x" if extra != "location" else "weights.bin", replace=False)
        return f"extra entry {extra}"
    if choice in (4, 5) and not files:
        choice = 6
    if choice == 4 and files:
        name = rng.choice(sorted(files))
        files[name] = files[name][: rng.randrange(len(files[name]) + 1)]
        return f"{name} truncated"
    if choice == 5 and files:
        name = rng.choice(sorted(files))
        del files[name]
        return f"{name} missing"
    if choice == 6:
        model.ir_version = rng.choice([0, 1, 2, 3, 11, 12, 99])
        return f"ir_version {model.ir_version}"
    if choice == 7:
        del model.opset_import[:]
        if rng.random() < 0.5:
            model.opset_import.append(
                helper.make_opsetid(rng.choice(["", "com.x"]), rng.choice([0, 5, 99]))
            )
        return "opset changed"
    if choice == 8 and model.graph.node:
        node = rng.choice(model.graph.node)
        change = rng.randrange(3)
        if change == 0:
            node.op_type = "NoSuchOp"
        elif change == 1:
            node.input.append("undefined_input")
        else:
            model.graph.initializer.extend(model.graph.initializer[:1])
        return f"node change {change}"
    if choice == 9:
        model.graph.ClearField("output")
        return "no outputs"
    return "unchanged"


def mutate_bytes(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    if rng.random() < 0.5:
        cut = rng.randrange(len(data) + 1)
        return data[:cut], f"model truncated at {cut} of {len(data)}"
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out), "model bytes flipped"
