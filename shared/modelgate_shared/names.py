"""The naming rules for model names and versions, the same on every path that creates one.

Ingest, the validator's policy check and the registry's Kubeflow API all ask here, so a name
refused by one is refused by all. A model name is a DNS-label-like ASCII word (widened to dots
and underscores for names such as "Granite-3.1-8b-Instruct-FP8"); a version is SemVer 2.0.

Keeping names ASCII is what defeats cross-script look-alikes: "demо" with a Cyrillic "о" is a
different model from "demo" to the database but not to a reader, and only a closed alphabet
rules out every such pair at once (a confusables table would always be one script behind).
Look-alikes within ASCII (case, "l" for "I", "0" for "O") still pass: refusing them needs the
names already registered, which only the registry has (not done yet). The Unicode
checks before it exist to say *why* a name is refused: a hidden right-to-left override or a
full-width letter deserves a clearer reason than "not in the pattern".
"""

from __future__ import annotations

import re
import unicodedata

from modelgate_shared.events.fields import MODEL_NAME_PATTERN, SEMVER_PATTERN

# re.ASCII: without it `\d` also matches Arabic-Indic and other Unicode digits.
_MODEL_NAME = re.compile(MODEL_NAME_PATTERN, re.ASCII)
_SEMVER = re.compile(SEMVER_PATTERN, re.ASCII)

RESERVED_VERSIONS = frozenset({"latest"})
"""Words clients use as moving pointers: as a version they would shadow the pointer."""

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Marks that reorder how text is displayed (Trojan Source, CVE-2021-42574)."""

MODEL_NAME_RULE = (
    "use ASCII letters, digits, '.', '_' and '-', start and end with a letter or digit, "
    "at most 128 characters, no '..'"
)
VERSION_RULE = "use a SemVer 2.0 version (e.g. 1.2.0, 2.0.0-rc.1)"


def _unicode_problem(what: str, value: str) -> str | None:
    """Why `value` is not plain text, in words; None when it is (or merely non-ASCII)."""
    if not value.strip():
        return f"{what} is blank"
    for char in value:
        if char in BIDI_CONTROLS:
            return f"{what} {value!r} contains the bidirectional control U+{ord(char):04X}"
        if unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"):
            return f"{what} {value!r} contains the control or invisible character U+{ord(char):04X}"
    if unicodedata.normalize("NFKC", value) != value:
        return (
            f"{what} {value!r} changes under Unicode NFKC normalisation "
            f"(to {unicodedata.normalize('NFKC', value)!r})"
        )
    scripts = {_script(c) for c in value if c.isalpha()}
    if len(scripts) > 1:
        mixed = ", ".join(sorted(scripts))
        return f"{what} {value!r} mixes scripts ({mixed}), so it may imitate another name"
    return None


def _script(char: str) -> str:
    """The script of a letter, from its Unicode name ("CYRILLIC SMALL LETTER O" -> CYRILLIC)."""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def model_name_problem(name: str) -> str | None:
    """Why `name` cannot name a model; None when it can."""
    problem = _unicode_problem("model name", name)
    if problem is None and not name.isascii():
        problem = f"model name {name!r} has non-ASCII characters"
    if problem is None and (not _MODEL_NAME.fullmatch(name) or ".." in name):
        problem = f"model name {name!r} is not a valid model name"
    return f"{problem}: {MODEL_NAME_RULE}" if problem else None


def version_problem(version: str) -> str | None:
    """Why `version` cannot name a version; None when it can."""
    problem = _unicode_problem("version", version)
    if problem is None and version.lower() in RESERVED_VERSIONS:
        problem = f"version {version!r} is reserved"
    if problem is None and not _SEMVER.fullmatch(version):
        problem = f"version {version!r} is not a SemVer 2.0 version"
    return f"{problem}: {VERSION_RULE}" if problem else None


def identity_problems(name: str, version: str) -> list[str]:
    """Everything wrong with a model name and version, each with its reason."""
    return [p for p in (model_name_problem(name), version_problem(version)) if p]
