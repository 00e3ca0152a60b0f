"""The fixed, seeded serving workload: the same prompts, lengths and concurrency levels on every
host, so figures from two runs (or two hardware profiles) can be compared."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Common English words: one token each in the usual BPE and SentencePiece vocabularies, so a
# prompt of N words is about N tokens whatever model answers (the tests' generated model has
# exactly these words as tokens).
_WORDS_TEXT = """
the of and to in is for that on with as it be by this are from or at an was have not
which but all can more one has will if their its also new time about other into two
many used first some data may there any been such these most only when over work than
after model use system people them year would out what like make then well each part
between open three where could under level test order local small large high long state
point group value rate power light water world number right place case note line form
field given common early house great city study music story north south east west river
road train plant stone paper glass metal green black white table chair window garden
"""
WORDS = tuple(_WORDS_TEXT.split())


@dataclass(frozen=True, kw_only=True)
class Workload:
    seed: int = 20250101
    prompt_tokens: int = 256
    """Words per prompt (about one token each)."""
    output_tokens: int = 128
    """Tokens each request asks for; EOS is ignored where the server allows it."""
    concurrency: tuple[int, ...] = (1, 8, 32)
    rounds: int = 4
    """Each level sends `rounds × concurrency` requests (at least `min_requests`)."""
    min_requests: int = 8
    warmup_requests: int = 1
    """Sent (and not measured) before the first level: first-call costs stay out of the figures."""
    request_timeout_s: float = 300.0

    def requests_at(self, concurrency: int) -> int:
        return max(self.min_requests, self.rounds * concurrency)

    def prompts(self, concurrency: int) -> list[str]:
        """The prompts of one level; the same seed and level always give the same prompts."""
        rng = random.Random(f"{self.seed}/{concurrency}")  # noqa: S311 (a workload, not a secret)
        return [
            " ".join(rng.choice(WORDS) for _ in range(self.prompt_tokens))
            for _ in range(self.requests_at(concurrency))
        ]

    def warmup_prompts(self) -> list[str]:
        # Not the first prompt of a level: servers that reuse a cached prompt prefix would make
        # that request's time to first token look better than it is.
        rng = random.Random(f"{self.seed}/warmup")  # noqa: S311 (a workload, not a secret)
        return [
            " ".join(rng.choice(WORDS) for _ in range(self.prompt_tokens))
            for _ in range(self.warmup_requests)
        ]

    def describe(self) -> dict[str, str | int | float | bool]:
        """The workload as carried in `BenchmarkResult.workload`."""
        return {
            "seed": self.seed,
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            "concurrency": ",".join(str(c) for c in self.concurrency),
            "requests_per_level": ",".join(str(self.requests_at(c)) for c in self.concurrency),
            "warmup_requests": self.warmup_requests,
            "api": "openai-completions-stream",
        }
