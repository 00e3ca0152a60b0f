"""A tiny but real llama-architecture GGUF model, written with the `gguf` package.

Random weights, so it writes nonsense, but llama.cpp loads and runs it like any other model: its
vocabulary is SentencePiece-style with the benchmark workload's words as whole tokens (and every
prefix of them, which SentencePiece merging needs), byte fallback for anything else.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from modelgate_validator.runners.workload import WORDS

SPECIAL = ("<unk>", "<s>", "</s>")
EOS_ID = 2


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    tokens = list(SPECIAL)
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    pieces: dict[str, None] = {"▁": None}
    for word in WORDS:
        piece = "▁" + word
        for end in range(1, len(piece) + 1):
            pieces.setdefault(piece[:end], None)
    for letter in "abcdefghijklmnopqrstuvwxyz":
        pieces.setdefault(letter, None)
    tokens += list(pieces)
    types += [gguf.TokenType.NORMAL] * len(pieces)
    # SentencePiece merges the highest-scoring pair first: longer pieces score higher.
    scores = [0.0] * (len(SPECIAL) + 256) + [float(len(p)) for p in pieces]
    return tokens, scores, [int(t) for t in types]


def write_tiny_llama(
    path: Path,
    *,
    embedding: int = 256,
    layers: int = 4,
    heads: int = 4,
    feed_forward: int = 768,
    context: int = 1024,
    seed: int = 0,
) -> Path:
    tokens, scores, types = vocabulary()
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("modelgate-tiny-llama")
    writer.add_context_length(context)
    writer.add_embedding_length(embedding)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(feed_forward)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_rope_dimension_count(embedding // heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(EOS_ID)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    def weight(*shape: int) -> np.ndarray:  # float16, scaled like a trained layer
        scaled: np.ndarray = (rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(np.float16)
        return scaled

    vocab = len(tokens)
    writer.add_tensor("token_embd.weight", weight(vocab, embedding))
    writer.add_tensor("output_norm.weight", np.ones(embedding, dtype=np.float32))
    output = weight(vocab, embedding)
    # Only word pieces can win greedy decoding: no EOS (every request yields all its tokens) and
    # no byte tokens (whose partial UTF-8 a server holds back, merging tokens into one event).
    output[: len(SPECIAL) + 256] = 0
    writer.add_tensor("output.weight", output)
    for i in range(layers):
        block = f"blk.{i}"
        writer.add_tensor(f"{block}.attn_norm.weight", np.ones(embedding, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{block}.{name}.weight", weight(embedding, embedding))
        writer.add_tensor(f"{block}.ffn_norm.weight", np.ones(embedding, dtype=np.float32))
        writer.add_tensor(f"{block}.ffn_gate.weight", weight(feed_forward, embedding))
        writer.add_tensor(f"{block}.ffn_up.weight", weight(feed_forward, embedding))
        writer.add_tensor(f"{block}.ffn_down.weight", weight(embedding, feed_forward))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
