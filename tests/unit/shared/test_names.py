"""The naming rules every path applies: what names and versions pass, and why others do not."""

from __future__ import annotations

import pytest

from modelgate_shared.names import identity_problems, model_name_problem, version_problem


@pytest.mark.parametrize(
    "name",
    ["Granite-3.1-8b-Instruct-FP8", "demo", "a", "llama_3.2-1b", "x" * 128, "v1.0"],
)
def test_plain_ascii_names_pass(name: str) -> None:
    assert model_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../../x", "not a valid model name"),
        ("a/b", "not a valid model name"),
        ("a..b", "not a valid model name"),
        ("", "blank"),
        ("   ", "blank"),
        ("-leading", "not a valid model name"),
        ("trailing.", "not a valid model name"),
        ("x" * 129, "not a valid model name"),
        ("two words", "not a valid model name"),
        ("model\n", "U+000A"),
        ("nul\x00", "U+0000"),
        ("evil\u202egnp.exe", "bidirectional control U+202E"),
        ("isolate\u2066x\u2069", "bidirectional control U+2066"),
        ("mark\u200f", "bidirectional control U+200F"),
        ("arabic\u061cmark", "bidirectional control U+061C"),
        ("zero\u200bwidth", "invisible character U+200B"),
        ("Granite-3.1-8b-Instruct-FP8-dem\u043e", "mixes scripts (CYRILLIC, LATIN)"),
        ("\u0434\u0435\u043c\u043e", "non-ASCII"),
        ("\uff44\uff45\uff4d\uff4f", "changes under Unicode NFKC"),  # full-width "demo"
        ("caf\u0065\u0301", "changes under Unicode NFKC"),  # e + combining acute
        ("fi\ufb01", "changes under Unicode NFKC"),  # the "fi" ligature
    ],
)
def test_unsafe_or_confusable_names_are_refused_with_a_reason(name: str, why: str) -> None:
    problem = model_name_problem(name)
    assert problem is not None
    assert why in problem
    assert "ASCII letters, digits" in problem, "the reason says what a name may be"


@pytest.mark.parametrize(
    "version", ["1.0.0", "0.0.1-kf-3", "3.1.0-May2025-Validated", "2.0.0-rc.1+build.5"]
)
def test_semver_versions_pass(version: str) -> None:
    assert version_problem(version) is None


@pytest.mark.parametrize(
    ("version", "why"),
    [
        ("latest", "reserved"),
        ("LATEST", "reserved"),
        ("../1", "not a SemVer 2.0 version"),
        ("1.0", "not a SemVer 2.0 version"),
        ("v1.0.0", "not a SemVer 2.0 version"),
        ("1.0.0\n", "U+000A"),
        ("", "blank"),
        ("\u0661.\u0662.\u0663", "not a SemVer 2.0 version"),  # Arabic-Indic digits
        ("1.0.0-\u202ex", "U+202E"),
    ],
)
def test_bad_versions_are_refused_with_a_reason(version: str, why: str) -> None:
    problem = version_problem(version)
    assert problem is not None
    assert why in problem


def test_identity_problems_lists_both() -> None:
    assert identity_problems("ok-name", "1.0.0") == []
    assert len(identity_problems("a/b", "latest")) == 2
