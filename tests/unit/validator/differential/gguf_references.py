"""The two reference GGUF readers, as the differential test asks them.

- llama.cpp: ggml's `gguf_init_from_file` (the parser llama.cpp loads models with, from the
  llama-cpp-python build in the dev environment), then the model loader's own rule that every
  tensor's bytes lie inside the file (`llama_tensor_weight`, llama-model-loader.h).
- the `gguf` package: `GGUFReader`, which maps the file and shapes every tensor.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import pytest
from gguf import GGUFReader


class _InitParams(ctypes.Structure):
    _fields_ = [("no_alloc", ctypes.c_bool), ("ctx", ctypes.c_void_p)]


_LOG_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


class Ggml:
    def __init__(self) -> None:
        llama_cpp = pytest.importorskip("llama_cpp", reason="llama.cpp's GGUF parser")
        lib = ctypes.CDLL(str(Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"))
        lib.gguf_init_from_file.restype = ctypes.c_void_p
        lib.gguf_init_from_file.argtypes = [ctypes.c_char_p, _InitParams]
        lib.gguf_free.argtypes = [ctypes.c_void_p]
        for name in ("gguf_get_data_offset", "gguf_get_tensor_offset", "gguf_get_tensor_size"):
            getattr(lib, name).restype = ctypes.c_size_t
        lib.gguf_get_data_offset.argtypes = [ctypes.c_void_p]
        lib.gguf_get_n_tensors.restype = ctypes.c_int64
        lib.gguf_get_n_tensors.argtypes = [ctypes.c_void_p]
        lib.gguf_get_tensor_offset.argtypes = [ctypes.c_void_p, ctypes.c_int64]
        lib.gguf_get_tensor_size.argtypes = [ctypes.c_void_p, ctypes.c_int64]
        lib.ggml_blck_size.restype = ctypes.c_int64
        lib.ggml_blck_size.argtypes = [ctypes.c_int]
        lib.ggml_type_size.restype = ctypes.c_size_t
        lib.ggml_type_size.argtypes = [ctypes.c_int]
        self._quiet = _LOG_CALLBACK(lambda level, text, data: None)  # kept alive with self
        lib.ggml_log_set(self._quiet, None)
        self.lib = lib

    def accepts(self, path: Path) -> bool:
        ctx = self.lib.gguf_init_from_file(str(path).encode(), _InitParams(True, None))
        if not ctx:
            return False
        try:
            size = os.path.getsize(path)
            start = self.lib.gguf_get_data_offset(ctx)
            return all(
                start
                + self.lib.gguf_get_tensor_offset(ctx, i)
                + self.lib.gguf_get_tensor_size(ctx, i)
                <= size
                for i in range(self.lib.gguf_get_n_tensors(ctx))
            )
        finally:
            self.lib.gguf_free(ctx)


def gguf_package_accepts(path: Path) -> bool:
    try:
        reader = GGUFReader(path)
    except Exception:  # ValueError, KeyError, IndexError, UnicodeDecodeError: "cannot open"
        return False
    del reader
    return True
