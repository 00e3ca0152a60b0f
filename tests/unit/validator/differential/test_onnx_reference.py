"""Our ONNX check against the reference: `onnx.load` (which reads and bounds external data)
and `onnx.checker.check_model`, on the same generated and mutated models and data files."""

from __future__ import annotations

import random
import warnings
from collections import Counter
from pathlib import Path

import onnx

from modelgate_validator.formats import onnx_model as ours
from tests.unit.validator.differential import onnx_files as gen
from tests.unit.validator.differential.memory_reader import MemoryReader

SEED = 18
VALID_MODELS = 300
MUTATED_MODELS = 900


def reference_accepts(folder: Path) -> bool:
    path = str(folder / gen.MODEL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown external-data keys: a warning, not a refusal
        try:
            onnx.load(path)
            onnx.checker.check_model(path)
        except Exception:  # DecodeError, ValidationError, ValueError, OSError: refused
            return False
    return True


def _cases() -> list[tuple[str, dict[str, bytes]]]:
    rng = random.Random(SEED)
    cases = []
    for i in range(VALID_MODELS + MUTATED_MODELS):
        model, files = gen.valid(rng)
        what = "valid"
        if i >= VALID_MODELS:
            what = gen.mutate(model, files, rng)
            if rng.random() < 0.3:
                what += " + " + gen.mutate(model, files, rng)
        data = model.SerializeToString()
        if i >= VALID_MODELS and rng.random() < 0.15:
            data, change = gen.mutate_bytes(data, rng)
            what += " + " + change
        cases.append((what, {gen.MODEL: data, **files}))
    return cases


async def test_every_model_gets_the_reference_decision(tmp_path: Path) -> None:
    decisions: Counter[bool] = Counter()
    disagreements = []
    cases = _cases()
    for i, (what, files) in enumerate(cases):
        folder = tmp_path / f"case{i}" / "artifact"
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        reference = reference_accepts(folder)
        uris = {name: f"s3://b/{i}/{name}" for name in files}
        reader = MemoryReader({uris[name]: data for name, data in files.items()})
        problems, _ = await ours.inspect(
            reader, uris[gen.MODEL], gen.MODEL, uris, tmp_path / f"case{i}" / "work"
        )
        decisions[reference] += 1
        if (not problems) != reference:
            disagreements.append(f"#{i} {what}: reference {reference}, ours {problems}")
    assert len(cases) >= 1000
    assert disagreements == []
    assert decisions[True] >= 300
    assert decisions[False] >= 300
