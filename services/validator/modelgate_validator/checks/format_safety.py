"""Format safety: each file is inspected according to what it is, never loaded or executed.

safetensors, ONNX and GGUF files by their suffix; pickle-based files by suffix and also by
their first bytes, so a pickle renamed `config.json` is scanned all the same.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from modelgate_shared.events import ArtifactFile
from modelgate_validator.checks.base import CheckContext, Outcome
from modelgate_validator.formats import gguf, onnx_model, pickles, safetensors

OTHER_FILES_SCAN_LIMIT = 64 * 1024 * 1024
WEIGHT_SUFFIXES = (".safetensors", ".gguf", ".onnx")


class FormatSafetyCheck:
    name = "format-safety"
    needs_storage = True

    async def run(self, ctx: CheckContext) -> Outcome:
        problems: list[str] = []
        notes: list[str] = []
        paths = {f.path: f.uri for f in ctx.submission.artifact.files}
        for item in ctx.submission.artifact.files:
            found, note = await self._file(ctx, item, paths)
            problems += [f"{item.path}: {p}" for p in found]
            if note:
                notes.append(f"{item.path}: {note}")
        if problems:
            return Outcome.failed("; ".join(problems))
        return Outcome.passed("; ".join(notes) or "no model files to inspect")

    async def _file(
        self, ctx: CheckContext, item: ArtifactFile, paths: dict[str, str]
    ) -> tuple[list[str], str]:
        size = ctx.sizes.get(item.path)
        if size is None:
            size = (await ctx.files.head(item.uri)).size
        suffix = PurePosixPath(item.path).suffix.lower()
        if size == 0:
            # Nothing to parse (picklescan would crash on it): an empty weights file is broken,
            # an empty anything else (a marker file, an empty notice) holds no code.
            if suffix in WEIGHT_SUFFIXES or suffix in pickles.SUFFIXES:
                return [f"empty file: not a valid {suffix} file"], ""
            return [], "empty file"
        if suffix == ".safetensors":
            return await safetensors.inspect(ctx.files, item.uri, size)
        if suffix == ".gguf":
            return await gguf.inspect(ctx.files, item.uri, size)
        if suffix == ".onnx":
            return await onnx_model.inspect(ctx.files, item.uri, item.path, paths, ctx.work_dir)
        prefix = await ctx.files.read_range(item.uri, 0, min(size, 8))
        if suffix in pickles.SUFFIXES or pickles.looks_like_pickle(prefix):
            return await pickles.inspect(ctx.files, item.uri, item.path, ctx.work_dir)
        if size <= OTHER_FILES_SCAN_LIMIT:
            # Anything else small (configs, tokenizers) is scanned for pickle imports too: a
            # protocol-0 pickle has no magic bytes and could hide in any file name.
            return await pickles.inspect(
                ctx.files, item.uri, item.path, ctx.work_dir, must_be_pickle=False
            )
        return [], "not a model weight format; not inspected"
