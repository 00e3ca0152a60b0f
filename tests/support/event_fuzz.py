"""Property-based fuzzing of the Kafka consumers (hypothesis): records for each consumed topic,
and the judgement of what the consumer groups did with them.

Three kinds of record are drawn for a topic:

- hostile: a CloudEvents envelope made with the contract's own `new_event` and `encode`, signed
  with a key trusted for its type, whose fields hold hostile values: strings at, over and far
  over their length limits, NUL, control, bidi and look-alike characters, huge, negative and
  zero numbers, NaN, dates at the ends of the calendar and of the time zones, over-full
  free-form dicts, path traversal in file paths, event and submission ids that repeat or
  match nothing. Each either takes effect or is dead-lettered.
- untrusted: the same, but unsigned, signed by a stranger's key or by a key not allowed to sign
  its type, with a signature that does not match, a garbage signature header, or in binary
  mode (unsigned headers). Each is dead-lettered by every group.
- mutated: the bytes of a signed hostile event changed on the way (truncated, non-UTF-8, lone
  surrogates, fields removed or of the wrong type, unknown fields nested thousands deep, NaN
  and out-of-range number tokens, duplicate keys, another event type, another encoding, not
  an object at all, empty, a tombstone), mostly signed again so that the signature is not
  what stops them. Each either takes effect or is dead-lettered.

`judge` says, for every record and every group that consumes its topic, what is wrong with
what happened: a record that neither took effect nor was dead-lettered with a reason, an
untrusted one not dead-lettered, a marker (a well-formed event produced after the others)
that did not take effect.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning
from pydantic import BaseModel, ValidationError

from modelgate_shared.events import (
    ARCHIVED,
    REGISTERED,
    SUBMITTED,
    TRANSITIONED,
    VALIDATED,
    Artifact,
    ArtifactFile,
    ArtifactFormat,
    BenchmarkResult,
    BenchmarkRun,
    CheckResult,
    CheckStatus,
    CloudEvent,
    EventType,
    HardwareInfo,
    LatencyPercentiles,
    ModelArchived,
    ModelCard,
    ModelRegistered,
    ModelSubmitted,
    ModelTransitioned,
    ModelValidated,
    PinnedArtifact,
    PinnedFile,
    PoisonMessage,
    Stage,
    TransitionKind,
    Verdict,
    VersionStatus,
    decode,
    encode,
    new_event,
)
from modelgate_shared.events.catalog import BY_TOPIC
from modelgate_shared.events.codec import headers_for
from modelgate_shared.kafka.security import KafkaAccess
from modelgate_shared.signing import KEY_ID_HEADER, SIGNATURE_HEADER, EventSigner
from modelgate_shared.topics import ARCHIVED as ARCHIVED_TOPIC
from modelgate_shared.topics import DLQ_SUFFIX
from modelgate_shared.topics import REGISTERED as REGISTERED_TOPIC
from modelgate_shared.topics import SUBMITTED as SUBMITTED_TOPIC
from modelgate_shared.topics import TRANSITIONED as TRANSITIONED_TOPIC
from modelgate_shared.topics import VALIDATED as VALIDATED_TOPIC
from modelgate_testkit.kafka import Seen

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

CONSUMERS: dict[str, tuple[str, ...]] = {
    SUBMITTED_TOPIC: ("validator", "registry", "ingest", "audit"),
    VALIDATED_TOPIC: ("registry", "ingest", "audit"),
    REGISTERED_TOPIC: ("ingest", "audit"),
    TRANSITIONED_TOPIC: ("ingest", "audit"),
    ARCHIVED_TOPIC: ("audit",),
}
"""Each consumed topic, and the services whose consumer groups read it (their composition
roots: `services/*/main.py`)."""

WRITER = {
    SUBMITTED_TOPIC: "submitter",
    VALIDATED_TOPIC: "validator",
    REGISTERED_TOPIC: "registry",
    TRANSITIONED_TOPIC: "registry",
    ARCHIVED_TOPIC: "registry",
}
"""The Kafka principal that may write each topic: the fuzzer produces as that principal (an
external producer, or a service whose password was stolen)."""

SIGNED_BY = {
    SUBMITTED_TOPIC: ("ingest", "registry"),
    VALIDATED_TOPIC: ("validator",),
    REGISTERED_TOPIC: ("registry",),
    TRANSITIONED_TOPIC: ("registry",),
    ARCHIVED_TOPIC: ("registry",),
}
"""The services whose keys the trusted-keys file allows to sign each topic's event type (the
registered producer may sign model.submitted too, naming itself as submitter)."""


class Kind(StrEnum):
    HOSTILE = "hostile"
    UNTRUSTED = "untrusted"
    MUTATED = "mutated"
    MARKER = "marker"


@dataclass(frozen=True)
class Fuzzed:
    """One record to produce, and what it is (for the report of a failure)."""

    kind: Kind
    what: str
    value: bytes | None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Sent:
    """A produced record and where it landed."""

    record: Fuzzed
    topic: str
    partition: int
    offset: int
    event: CloudEvent[Any] | None
    """The record decoded as every consumer decodes it (signature aside); None: poison."""

    def describe(self) -> str:
        head = (self.record.value or b"")[:160]
        return (
            f"{self.record.kind} {self.record.what} at {self.topic}[{self.partition}]"
            f"@{self.offset}: {head!r}"
        )


def decoded(topic: str, value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> Any:
    """`value` as the consumers of `topic` (a contract topic, or a run's prefixed one) decode
    it, or None where they dead-letter it."""
    (kind,) = [k for name, k in BY_TOPIC.items() if topic == name or topic.endswith(f".{name}")]
    try:
        return decode(value, headers, expect=[kind])
    except PoisonMessage:
        return None
    except RecursionError:
        return None  # nested too deep to decode: it can only be dead-lettered


# -- what each group leaves behind for an event it handled --


def effect_key(service: str, event: CloudEvent[Any]) -> uuid.UUID | None:
    """What shows that `service` handled `event`, as an id to look for (see `Effects`); None
    where handling it leaves nothing to see (ingest ignores transitions other than a
    rejection): then only that it was not dead-lettered and the group went past it count."""
    data = event.data
    if service != "ingest":
        return event.id  # registry.processed_events, validator.validations, audit.log
    if isinstance(data, ModelSubmitted):
        return data.submission_id
    if isinstance(data, ModelValidated):
        return data.submission.submission_id
    if isinstance(data, ModelRegistered):
        return data.submission_id
    if (
        isinstance(data, ModelTransitioned)
        and data.kind == TransitionKind.STATUS
        and data.submission_id is not None
        and data.to_value == VersionStatus.REJECTED
    ):
        return data.submission_id
    return None


EFFECT_QUERIES = {
    # Recorded in the transaction of the effects: the event was handled (whatever it decided).
    "registry": "SELECT event_id FROM registry.processed_events "
    "WHERE consumer = 'registry' AND event_id = ANY($1::uuid[])",
    # Answered: its model.validated is published (once, whatever the verdict).
    "validator": "SELECT event_id FROM validator.validations "
    "WHERE state = 'published' AND event_id = ANY($1::uuid[])",
    "audit": "SELECT event_id FROM audit.log WHERE event_id = ANY($1::uuid[])",
    # The submission's row, or the outcome waiting for it.
    "ingest": "SELECT submission_id FROM ingest.submissions WHERE submission_id = ANY($1::uuid[]) "
    "UNION SELECT submission_id FROM ingest.early_outcomes "
    "WHERE submission_id = ANY($1::uuid[])",
}


@dataclass
class Observed:
    """What the stack did: per group, the effect keys found, and the dead letters it sent
    (by original partition and offset) with their reasons."""

    effects: dict[str, set[uuid.UUID]] = field(default_factory=dict)
    dead: dict[tuple[str, int, int], str] = field(default_factory=dict)


def judge(sent: Sequence[Sent], services: Sequence[str], observed: Observed) -> list[str]:
    """Every way in which what the groups of `services` did with `sent` is wrong."""
    failures = []
    for item in sent:
        for service in services:
            problem = _judge_one(item, service, observed)
            if problem:
                failures.append(f"{service}: {problem}: {item.describe()}")
    return failures


def _judge_one(item: Sent, service: str, observed: Observed) -> str | None:
    reason = observed.dead.get((service, item.partition, item.offset))
    if reason is not None and not reason.strip():
        return "dead-lettered without a reason"
    kind = item.record.kind
    if kind is Kind.UNTRUSTED:
        return None if reason is not None else "an untrusted record was not dead-lettered"
    if kind is Kind.MARKER and reason is not None:
        return f"the marker was dead-lettered ({reason[:300]})"
    if reason is not None:
        return None
    if item.event is None:
        return "poison that was not dead-lettered"
    key = effect_key(service, item.event)
    if key is not None and key not in observed.effects.get(service, set()):
        return "neither took effect nor was dead-lettered"
    return None


# -- hostile values --
#
# Each strategy takes `beyond`: False keeps to what the contract lets through (so the record
# reaches the handlers, with NUL, bidi and look-alike characters, strings at their limits,
# huge numbers, extreme dates, path-like names); True also breaks it (over the limits,
# negative sizes, path traversal, NaN, unknown enum values), which decoding must refuse.

SPECIAL_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 64,
    "\u202egranite",  # right-to-left override
    "\u2066demo\u2069",  # bidi isolate
    "Gr\u0430nite",  # Cyrillic a
    "\uff47\uff52\uff41\uff4e\uff49\uff54\uff45",  # fullwidth
    "demo\u200b",  # zero width space
    "e\u0301" * 40,  # combining marks
    "\ufeffbom",
    "\r\n\t\x1b[31mred\x1b[0m",
    "\u2028\u2029",
    "\U0001f600" * 10,
    "\U000e0041tag",
    "../../etc/passwd",
    "/etc/passwd",
    "%2e%2e%2f",
    "'; DROP TABLE registry.models; --",
    "$1 %s {0} {{x}}",
    "<script>alert(1)</script>",
    "\\u0000",
    "null",
    "1e999",
]
SAFE_PATHS = [
    "model.safetensors",
    "\uff0e\uff0e/model.bin",  # fullwidth dots: no '..' to a POSIX path
    "\u2024\u2024/x",  # one-dot leaders
    "%2e%2e/model.bin",
    "~/.ssh/id_rsa",
    "x" * 300 + ".onnx",  # a name longer than a file system takes
    "a/" * 400 + "b",
    "\u202eslx.onnx",
    "model.pkl",
    "sub dir/with space.bin",
    "C:model.bin",
    "...",
    "a\x01b/\x7f.gguf",
]
TRAVERSING_PATHS = [
    "../model.safetensors",
    "a/../../b",
    "/etc/passwd",
    "./model.onnx",
    "a//b",
    "a/",
    "a\\..\\b",
    "a\x00.safetensors",
    "C:\\model.bin",
    "",
    "x" * 1025,
]
INTEGERS = [
    0,
    1,
    2**31 - 1,
    2**31,
    2**53,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64,
    10**30,
]
NEGATIVE = [-1, -(2**31) - 1, -(2**63), -(2**63) - 1, -(10**30)]
FLOATS = [0.0, -0.0, 1e308, 5e-324, 1.7976931348623157e308, 2.0**53 + 1]
NOT_FINITE = [float("nan"), float("inf"), float("-inf"), -1e308]
MAX_RECORD_BYTES = 900_000
"""Larger records than the broker takes (about 1 MiB) cannot be produced at all."""
EVENT_TYPES = [SUBMITTED, VALIDATED, REGISTERED, TRANSITIONED, ARCHIVED]


def _repeat(char: str, times: int) -> str:
    return char * times


def text(limit: int, *, beyond: bool, min_size: int = 0) -> st.SearchStrategy[str]:
    """Hostile strings for a field of `min_size` to `limit` characters (with `beyond`, also
    empty where it may not be, and over the limit)."""
    special = [s for s in SPECIAL_TEXT if min_size <= len(s) <= limit]
    strategies = [
        st.text(min_size=min_size, max_size=min(limit, 40)),
        st.text(
            alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Mn", "Zl", "Zp", "Co"]),
            min_size=min_size,
            max_size=min(limit, 20),
        ),
        st.sampled_from(special),
        st.sampled_from(special),
        st.builds(_repeat, st.sampled_from("a\u00e9\U0001d538\x00"), st.just(limit)),
    ]
    if beyond:
        too_long = st.sampled_from([limit + 1, limit * 3])
        strategies.append(st.builds(_repeat, st.sampled_from("a\x00"), too_long))
        if min_size:
            strategies.append(st.just(""))
    return st.one_of(strategies)


def names(beyond: bool) -> st.SearchStrategy[str]:
    """Model names: well-formed ones (which reach the catalog's rules), look-alikes, path-like
    and hostile ones."""
    return st.one_of(
        st.from_regex(r"\Afuzz-[a-z0-9]{1,12}\Z"),
        st.sampled_from(["fuzz-model", "Fuzz-Model", "fuzz-m\u043edel", "../fuzz", "fuzz/evil"]),
        text(253, beyond=beyond, min_size=1),
    )


def versions(beyond: bool) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["1.0.0", "0.0.0", "1.0.0-rc.1+build.5", "01.0.0", "1.0", "v1.0.0"]),
        st.builds("{}.{}.{}".format, *(st.sampled_from([0, 1, 2**64]) for _ in range(3))),
        text(128, beyond=beyond, min_size=1),
    )


def integers(beyond: bool, *, negative: bool = True) -> st.SearchStrategy[int]:
    """Integers for an unbounded field (with `negative`) or one of at least 0 (below 0 only
    `beyond`)."""
    choices = INTEGERS + (NEGATIVE if negative or beyond else [])
    low = None if negative or beyond else 0
    return st.one_of(st.sampled_from(choices), st.integers(min_value=low, max_value=2**70))


def floats(beyond: bool) -> st.SearchStrategy[float]:
    """Finite floats at their extremes; `beyond`: NaN and the infinities too (which JSON
    cannot carry: `encode` writes them as null)."""
    finite = st.one_of(st.sampled_from(FLOATS), st.floats(min_value=0, allow_infinity=False))
    return st.one_of(finite, st.sampled_from(NOT_FINITE)) if beyond else finite


def datetimes() -> st.SearchStrategy[datetime]:
    """Any date, naive or at any offset: 0001-01-01+14:00 is before the start of UTC's time."""
    offsets = st.builds(
        lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-1439, 1439)
    )
    extremes = st.sampled_from(
        [
            datetime.min,
            datetime.max,
            datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
            datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),
            datetime(1970, 1, 1, tzinfo=UTC),
        ]
    )
    return st.one_of(extremes, st.datetimes(timezones=st.none() | st.just(UTC) | offsets))


def uuids(pool: Sequence[uuid.UUID]) -> st.SearchStrategy[uuid.UUID]:
    """Fresh ids, and ids of a small pool shared by every record of a run: duplicate event ids,
    submissions that several events name, verdicts that answer another submission."""
    return st.one_of(st.uuids(), st.sampled_from(list(pool)))


def choice(values: Sequence[Any], beyond: bool, *wrong: Any) -> st.SearchStrategy[Any]:
    """One of `values`; with `beyond`, now and then one of `wrong`."""
    return st.sampled_from([*values, *wrong] if beyond else list(values))


def flat_dicts(
    value: st.SearchStrategy[Any], most: int, small: Any, *, beyond: bool
) -> st.SearchStrategy[dict[str, Any]]:
    """A free-form dict: a few hostile entries, or (cheaply made, each `small`) as many as
    allowed (`beyond`: one more, or thousands)."""
    sizes = [most, most + 1, 5000] if beyond else [most]
    many = st.builds(lambda n: {f"k{i}": small for i in range(n)}, st.sampled_from(sizes))
    return st.one_of(st.dictionaries(text(256, beyond=beyond), value, max_size=4), many)


def scalars(beyond: bool) -> st.SearchStrategy[Any]:
    return st.one_of(text(64, beyond=beyond), integers(beyond), floats(beyond), st.booleans())


def paths(beyond: bool) -> st.SearchStrategy[str]:
    safe = st.one_of(
        st.sampled_from(SAFE_PATHS),
        st.text(
            st.characters(codec="utf-8", exclude_characters="/\\\x00"), min_size=3, max_size=60
        ),
    )
    return st.one_of(safe, st.sampled_from(TRAVERSING_PATHS)) if beyond else safe


def s3_uris(bucket: str, beyond: bool) -> st.SearchStrategy[str]:
    """URIs in the run's bucket (whose keys may hold anything but NUL), in other buckets, and
    (`beyond`) not S3 URIs at all."""
    keys = st.one_of(
        paths(beyond=False), text(200, beyond=False).map(lambda k: k.replace("\x00", ""))
    )
    valid = st.one_of(
        st.builds(lambda key: f"s3://{bucket}/fuzz/{key}", keys),
        st.builds(lambda key: f"s3://{bucket}/{key}", keys),
        st.sampled_from(
            [
                "s3://modelgate/staging/x/model.safetensors",
                "s3://169.254.169.254/latest/meta-data/",
                f"s3://{bucket}-pinned/",
                f"s3://{bucket}/../../x",
            ]
        ),
    )
    invalid = st.sampled_from(
        [
            "s3://a/",
            "s3://UPPER/x",
            "s3://",
            "file:///etc/passwd",
            "http://127.0.0.1:1/x",
            "s3://" + "b" * 70 + "/x",
            f"s3://{bucket}/a\x00b",
            f"s3://{bucket}/" + "k" * 2048,
        ]
    )
    return st.one_of(valid, invalid) if beyond else valid


def digests(beyond: bool) -> st.SearchStrategy[str | None]:
    valid = st.one_of(
        st.none(), st.sampled_from(["0" * 64, "f" * 64]), st.from_regex(r"\A[0-9a-f]{64}\Z")
    )
    return (
        st.one_of(valid, st.sampled_from(["F" * 64, "0" * 63, "", "g" * 64])) if beyond else valid
    )


def construct(model: type[M], **values: Any) -> M:
    """A contract object holding exactly `values`, checked or not: hostile values that break
    the schema must reach the wire, where the consumers meet them."""
    return model.model_construct(**values)


def optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


@st.composite
def cards(draw: st.DrawFn, beyond: bool) -> ModelCard:
    def short() -> Any:
        return draw(optional(text(256, beyond=beyond)))

    return construct(
        ModelCard,
        description=draw(text(16384, beyond=beyond)),
        owner_team=short(),
        license=draw(optional(st.sampled_from(["apache-2.0", "MIT", "proprietary"]))) or short(),
        intended_use=draw(optional(text(16384, beyond=beyond))),
        limitations=draw(optional(text(64, beyond=beyond))),
        training_data_version=short(),
        code_commit=short(),
        framework=short(),
        vendor=short(),
        quantization=short(),
        hyperparameters=draw(flat_dicts(scalars(beyond), 256, 2**63, beyond=beyond)),
        metrics=draw(flat_dicts(floats(beyond), 256, 0.5, beyond=beyond)),
    )


@st.composite
def artifact_files(draw: st.DrawFn, bucket: str, beyond: bool) -> ArtifactFile:
    return construct(
        ArtifactFile,
        path=draw(paths(beyond)),
        uri=draw(s3_uris(bucket, beyond)),
        sha256=draw(digests(beyond)),
        size=draw(optional(integers(beyond, negative=False))),
    )


@st.composite
def submissions(
    draw: st.DrawFn,
    bucket: str,
    pool: Sequence[uuid.UUID],
    beyond: bool,
    submitter: str | None = None,
) -> ModelSubmitted:
    files = draw(st.lists(artifact_files(bucket, beyond), min_size=0 if beyond else 1, max_size=4))
    artifact = construct(
        Artifact,
        uri=draw(s3_uris(bucket, beyond)),
        format=draw(choice(list(ArtifactFormat), beyond, "exe")),
        files=files,
    )
    return construct(
        ModelSubmitted,
        submission_id=draw(uuids(pool)),
        name=draw(names(beyond)),
        version=draw(versions(beyond)),
        submitter=submitter if submitter is not None else draw(text(256, beyond=beyond)),
        artifact=artifact,
        model_card=draw(cards(beyond)),
        labels=draw(flat_dicts(text(256, beyond=beyond), 128, "v", beyond=beyond)),
        source=draw(optional(text(256, beyond=beyond))),
        hardware_profile=draw(
            optional(st.sampled_from(["cpu", "nvidia-l4-1gpu"]) | text(256, beyond=beyond))
        ),
        submitted_at=draw(datetimes()),
    )


@st.composite
def checks(draw: st.DrawFn, beyond: bool) -> CheckResult:
    return construct(
        CheckResult,
        name=draw(
            st.sampled_from(["policy", "integrity", "format-safety"]) | text(256, beyond=beyond)
        ),
        status=draw(choice(list(CheckStatus), beyond, "crashed")),
        detail=draw(text(16384, beyond=beyond)),
        duration_ms=draw(floats(beyond)),
    )


@st.composite
def benchmarks(draw: st.DrawFn, beyond: bool) -> BenchmarkResult:
    latency = construct(LatencyPercentiles, p50_ms=draw(floats(beyond)), p95_ms=0.0, p99_ms=1e308)
    run = construct(
        BenchmarkRun,
        concurrency=draw(integers(beyond, negative=False).filter(lambda n: n != 0 or beyond)),
        requests=draw(integers(beyond)),
        failures=draw(integers(beyond)),
        duration_s=draw(floats(beyond)),
        output_tokens=draw(integers(beyond)),
        output_tokens_per_s=draw(floats(beyond)),
        requests_per_s=0.0,
        ttft=latency,
        itl=latency,
        e2e=latency,
    )
    hardware = construct(
        HardwareInfo,
        gpu_model=draw(text(256, beyond=beyond)),
        gpu_count=draw(integers(beyond)),
        cpu_count=draw(optional(integers(beyond))),
    )
    return construct(
        BenchmarkResult,
        runner=draw(text(256, beyond=beyond)),
        hardware_profile=draw(text(256, beyond=beyond)),
        hardware=hardware,
        runs=draw(st.lists(st.just(run), max_size=3)),
        workload=draw(flat_dicts(scalars(beyond), 1000, 1, beyond=beyond)),
        server_args=draw(st.lists(text(256, beyond=beyond), max_size=300 if beyond else 256)),
    )


def _pinned(submission: ModelSubmitted, pinned_bucket: str) -> PinnedArtifact:
    """Pinned copies of every file the submission declares, under the pinned bucket: what a
    passed verdict needs for the registry to register it."""
    root = f"s3://{pinned_bucket}/{uuid.uuid4()}/"
    files = [
        construct(
            PinnedFile,
            path=f.path,
            sha256=f.sha256 or "0" * 64,
            size=f.size if f.size is not None else 0,
            uri=f"{root}{f.path}",
            version_id="v1",
            submitted_uri=f.uri,
        )
        for f in submission.artifact.files
    ]
    return construct(PinnedArtifact, uri=root, files=files)


@st.composite
def verdicts(
    draw: st.DrawFn, bucket: str, pinned_bucket: str, pool: Sequence[uuid.UUID], beyond: bool
) -> ModelValidated:
    submission = draw(submissions(bucket, pool, beyond))
    # Mostly pinned as a passed verdict must be, so that hostile versions get registered.
    where = draw(st.sampled_from([pinned_bucket, pinned_bucket, None, "elsewhere-pinned"]))
    return construct(
        ModelValidated,
        submission=submission,
        submitted_event_id=draw(uuids(pool)),
        verdict=draw(choice([Verdict.PASSED, Verdict.PASSED, Verdict.FAILED], beyond, "maybe")),
        checks=draw(st.lists(checks(beyond), max_size=5)),
        benchmark=draw(optional(benchmarks(beyond))),
        certified_hardware_profiles=draw(st.lists(text(256, beyond=beyond), max_size=3)),
        validated_at=draw(datetimes()),
        pinned=None if where is None else _pinned(submission, where),
    )


@st.composite
def registry_events(
    draw: st.DrawFn, kind: EventType, pool: Sequence[uuid.UUID], beyond: bool
) -> BaseModel:
    common = {
        "model_id": draw(integers(beyond)),
        "version_id": draw(optional(integers(beyond))),
        "name": draw(names(beyond)),
        "version": draw(optional(versions(beyond))),
        "actor": draw(text(256, beyond=beyond)),
        "sequence": draw(integers(beyond)),
        "occurred_at": draw(datetimes()),
        "submission_id": draw(optional(uuids(pool))),
    }
    if kind is REGISTERED:
        if not beyond:  # required here
            common["submission_id"] = draw(uuids(pool))
        return construct(
            ModelRegistered,
            **common,
            artifact_uri=draw(text(2048, beyond=beyond)),
            stage=draw(choice(list(Stage), beyond, "prod")),
            certified_hardware_profiles=draw(st.lists(text(256, beyond=beyond), max_size=3)),
        )
    if kind is TRANSITIONED:
        return construct(
            ModelTransitioned,
            **common,
            kind=draw(choice([TransitionKind.STATUS] * 3 + list(TransitionKind), beyond, "st")),
            from_value=draw(optional(text(256, beyond=beyond))),
            # Mostly a rejection, the one transition ingest acts on.
            to_value=draw(
                st.sampled_from([VersionStatus.REJECTED.value] * 3) | text(256, beyond=beyond)
            ),
            reason=draw(text(16384, beyond=beyond)),
            approver=draw(optional(text(256, beyond=beyond))),
            environment=draw(optional(text(256, beyond=beyond))),
        )
    return construct(ModelArchived, **common, reason=draw(text(16384, beyond=beyond)))


def event_data(
    topic: str, *, bucket: str, pinned_bucket: str, pool: Sequence[uuid.UUID], producer: str
) -> st.SearchStrategy[BaseModel]:
    """Hostile data for `topic`'s event type: two in three within the contract."""

    def data(beyond: bool) -> st.SearchStrategy[BaseModel]:
        if topic == SUBMITTED_TOPIC:
            return st.one_of(
                submissions(bucket, pool, beyond),
                submissions(bucket, pool, beyond, submitter=producer),  # the producer's own
            )
        if topic == VALIDATED_TOPIC:
            return verdicts(bucket, pinned_bucket, pool, beyond)
        return registry_events(BY_TOPIC[topic], pool, beyond)

    return st.sampled_from([False, False, True]).flatmap(data)


def envelope(
    kind: EventType,
    data: BaseModel,
    *,
    event_id: uuid.UUID,
    source: str,
    subject: str,
    time: datetime | None,
) -> CloudEvent[Any]:
    """The envelope `new_event` makes; where a hostile attribute breaks its schema, the same
    constructed unchecked (the bytes then reach the consumers, which must refuse them)."""
    try:
        event = new_event(kind, data, source=source, subject=subject, event_id=event_id)
    except ValidationError:
        event = kind.envelope.model_construct(
            id=event_id,
            source=source,
            type=kind.type,
            subject=subject,
            dataschema=kind.dataschema,
            data=data,
        )
    return event if time is None else event.model_copy(update={"time": time})


def wire(event: CloudEvent[Any]) -> bytes:
    """`encode`, quiet about the values the contract would not have let in."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return encode(event)


def model_name(data: BaseModel) -> str:
    value = getattr(data, "name", None)
    if value is None and isinstance(data, ModelValidated):
        value = getattr(data.submission, "name", None)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Keys:
    """The keys the fuzzer signs with."""

    producer: EventSigner
    producer_name: str
    services: Mapping[str, EventSigner]
    stranger: EventSigner
    """A key no trusted-keys file lists."""

    def trusted(self, topic: str, data: BaseModel) -> list[EventSigner]:
        keys = [self.services[s] for s in SIGNED_BY[topic]]
        if topic == SUBMITTED_TOPIC and getattr(data, "submitter", None) == self.producer_name:
            keys.append(self.producer)
        return keys

    def not_allowed(self, topic: str, data: BaseModel) -> list[EventSigner]:
        """Keys the trusted-keys file lists, but not for this event (type, or submitter)."""
        keys = [s for n, s in self.services.items() if n not in SIGNED_BY[topic]]
        if topic != SUBMITTED_TOPIC or getattr(data, "submitter", None) != self.producer_name:
            keys.append(self.producer)
        return keys


def _as_record(headers: Mapping[str, str | bytes]) -> tuple[tuple[str, bytes], ...]:
    return tuple((k, v if isinstance(v, bytes) else v.encode()) for k, v in headers.items())


@st.composite
def events(
    draw: st.DrawFn, topic: str, data: st.SearchStrategy[BaseModel], pool: Sequence[uuid.UUID]
) -> tuple[CloudEvent[Any], bytes]:
    """A hostile event for `topic` and its bytes as `encode` writes them."""
    kind = BY_TOPIC[topic]
    payload = draw(data)
    name = model_name(payload)
    beyond = draw(st.sampled_from([False, False, False, True]))
    event = envelope(
        kind,
        payload,
        event_id=draw(uuids(pool)),
        source=draw(
            st.sampled_from(["/modelgate/fuzz", "urn:ci"]) | text(512, beyond=beyond, min_size=1)
        ),
        subject=draw(
            st.sampled_from([f"{name}/1.0.0", "other/9.9.9"]) | text(512, beyond=beyond, min_size=1)
        ),
        time=draw(optional(datetimes())),
    )
    value = wire(event)
    assume(len(value) < MAX_RECORD_BYTES)
    return event, value


@st.composite
def hostile(
    draw: st.DrawFn,
    topic: str,
    data: st.SearchStrategy[BaseModel],
    pool: Sequence[uuid.UUID],
    keys: Keys,
) -> Fuzzed:
    event, value = draw(events(topic, data, pool))
    signer = draw(st.sampled_from(keys.trusted(topic, event.data)))
    key = draw(_keys(event.data))
    return Fuzzed(
        Kind.HOSTILE,
        "signed by a trusted key",
        value,
        key,
        _as_record({**headers_for(event.type, event.id), **signer.headers(value)}),
    )


def _keys(data: BaseModel) -> st.SearchStrategy[bytes | None]:
    name = model_name(data)
    return st.one_of(
        st.just(name.encode("utf-8", "surrogatepass")),
        st.sampled_from([None, b"", b"\xff\xfe\x00", b"k" * 10000]),
    )


UNTRUSTED_WAYS = (
    "unsigned",
    "a stranger's key",
    "a key not allowed to sign it",
    "a trusted key's id with a stranger's signature",
    "a signature of other bytes",
    "a garbage signature header",
    "binary mode",
)


@st.composite
def untrusted(
    draw: st.DrawFn,
    topic: str,
    data: st.SearchStrategy[BaseModel],
    pool: Sequence[uuid.UUID],
    keys: Keys,
) -> Fuzzed:
    event, value = draw(events(topic, data, pool))
    how = draw(st.sampled_from(UNTRUSTED_WAYS))
    trusted = keys.trusted(topic, event.data)[0]
    headers: dict[str, str | bytes] = dict(headers_for(event.type, event.id))
    if how == "a stranger's key":
        headers.update(keys.stranger.headers(value))
    elif how == "a key not allowed to sign it":
        headers.update(draw(st.sampled_from(keys.not_allowed(topic, event.data))).headers(value))
    elif how == "a trusted key's id with a stranger's signature":
        headers.update({**keys.stranger.headers(value), KEY_ID_HEADER: trusted.key_id})
    elif how == "a signature of other bytes":
        headers.update(trusted.headers(value + b" "))
    elif how == "a garbage signature header":
        headers[KEY_ID_HEADER] = trusted.key_id
        headers[SIGNATURE_HEADER] = draw(
            st.sampled_from([b"", b"not base64!", b"\xff\xfe", base64.b64encode(b"x" * 64)])
        )
    elif how == "binary mode":
        # Attributes in ce_* headers, the data as the value; signed, but headers are not.
        body = json.loads(value)
        headers = {f"ce_{k}": str(v) for k, v in body.items() if k != "data" and isinstance(v, str)}
        headers["ce_specversion"] = "1.0"
        headers["content-type"] = "application/json"
        value = json.dumps(body.get("data"), allow_nan=True).encode()
        headers.update(trusted.headers(value))
    return Fuzzed(Kind.UNTRUSTED, how, value, draw(_keys(event.data)), _as_record(headers))


# -- mutated bytes --

NUMBER = re.compile(rb'(":\s*)(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)')
STRING_START = re.compile(rb'":\s*"')
TOKENS = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-0", b"1e-400", b"1" + b"0" * 40, b"1.5"]
INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80"]
WRONG_VALUES: list[Any] = [None, 0, -1, True, "", "x", [], {}, [[["deep"]]], {"a": {"b": {}}}]
MUTATIONS = (
    "truncated",
    "invalid UTF-8 in a string",
    "a lone surrogate in a string",
    "a field removed",
    "a field of the wrong type",
    "an unknown field nested deep",
    "unknown fields, many",
    "a number token replaced",
    "a duplicate key",
    "another event type",
    "encoded as UTF-16",
    "a byte order mark",
    "padded with whitespace",
    "not an object",
    "empty",
    "a tombstone",
    "header values not UTF-8",
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a decoded JSON document."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*prefix, i))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any, *, remove: bool = False) -> None:
    for step in path[:-1]:
        doc = doc[step]
    if remove:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


@st.composite
def mutated(
    draw: st.DrawFn,
    topic: str,
    data: st.SearchStrategy[BaseModel],
    pool: Sequence[uuid.UUID],
    keys: Keys,
) -> Fuzzed:
    event, value = draw(events(topic, data, pool))
    how = draw(st.sampled_from(MUTATIONS))
    extra: dict[str, str | bytes] = dict(headers_for(event.type, event.id))
    new: bytes | None = value
    doc = json.loads(value)
    if how == "truncated":
        new = value[: draw(st.integers(0, len(value) - 1))]
    elif how == "invalid UTF-8 in a string":
        spots = [m.end() for m in STRING_START.finditer(value)]
        at = draw(st.sampled_from(spots))
        new = value[:at] + draw(st.sampled_from(INVALID_UTF8)) + value[at:]
    elif how == "a lone surrogate in a string":
        spots = [m.end() for m in STRING_START.finditer(value)]
        at = draw(st.sampled_from(spots))
        new = value[:at] + draw(st.sampled_from([b"\\ud800", b"\\udfff", b"\\ud83d"])) + value[at:]
    elif how in ("a field removed", "a field of the wrong type"):
        path = draw(st.sampled_from(_paths(doc)))
        _set(doc, path, draw(st.sampled_from(WRONG_VALUES)), remove=how == "a field removed")
        new = json.dumps(doc, allow_nan=True).encode()
    elif how == "an unknown field nested deep":
        depth = draw(st.sampled_from([10, 200, 900, 2000, 100_000]))
        nested = b"[" * depth + b"]" * depth
        new = b'{"deep":' + nested + b"," + value[1:]
        if draw(st.booleans()) and b'"data":{' in value:  # inside the data instead
            at = value.index(b'"data":{') + len(b'"data":{')
            new = value[:at] + b'"deep":' + nested + b"," + value[at:]
    elif how == "unknown fields, many":
        doc["extra"] = {
            f"f{i}": {"g": [i, str(i)]} for i in range(draw(st.sampled_from([10, 5000])))
        }
        if isinstance(doc.get("data"), dict):
            doc["data"]["unknown"] = {"x": [None, True, 1.5]}
        new = json.dumps(doc).encode()
    elif how == "a number token replaced":
        numbers = list(NUMBER.finditer(value))
        token = draw(st.sampled_from(TOKENS))
        if numbers:
            m = draw(st.sampled_from(numbers))
            new = value[: m.start(2)] + token + value[m.end(2) :]
        else:
            new = b'{"n":' + token + b"," + value[1:]
    elif how == "a duplicate key":
        name, again = draw(
            st.sampled_from(
                [
                    (b"id", json.dumps(str(uuid.uuid4())).encode()),
                    (b"type", json.dumps(draw(st.sampled_from(EVENT_TYPES)).type).encode()),
                    (b"data", b"{}"),
                    (b"specversion", b'"0.3"'),
                ]
            )
        )
        new = value[:-1] + b',"' + name + b'":' + again + b"}"
    elif how == "another event type":
        doc["type"] = draw(
            st.sampled_from([e.type for e in EVENT_TYPES if e.topic != topic] + ["", "x", 7])
        )
        new = json.dumps(doc, allow_nan=True).encode()
    elif how == "encoded as UTF-16":
        new = value.decode().encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32"])))
    elif how == "a byte order mark":
        new = b"\xef\xbb\xbf" + value
    elif how == "padded with whitespace":
        new = b" \n\t" + value + b"\r\n"
    elif how == "not an object":
        new = draw(st.sampled_from([b"[]", b'"event"', b"42", b"null", b"true", b"[{}]"]))
    elif how == "empty":
        new = b""
    elif how == "a tombstone":
        new = None
    elif how == "header values not UTF-8":
        extra.update({"content-type": b"\xff\xfe", "ce_type": b"\xc3\x28", "traceparent": b"\x00"})
    if new is not None and draw(st.integers(0, 9)) > 0:  # mostly signed as the writer would
        extra.update(draw(st.sampled_from(keys.trusted(topic, event.data))).headers(new))
    key = draw(_keys(event.data))
    if new is None and key is None:
        key = b"tombstone"  # a record needs a key or a value
    return Fuzzed(Kind.MUTATED, how, new, key, _as_record(extra))


def draw_examples(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """`count` examples of `strategy` (fewer if it has fewer to give), drawn up front: the
    records are produced as one batch and judged together, far cheaper than a Kafka round trip
    per example (so no shrinking: a failure names the record it is about)."""
    found: list[T] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: T) -> None:
        found.append(example)

    with warnings.catch_warnings():
        # Drawn in a thread while the event loop runs the Kafka clients, which use `random`:
        # hypothesis sees the global random state move and takes it for the strategies'.
        warnings.filterwarnings("ignore", "Do not use the `random` module", HypothesisWarning)
        collect()
    return found


def fuzzed_records(
    topic: str,
    count: int,
    *,
    bucket: str,
    pinned_bucket: str,
    pool: Sequence[uuid.UUID],
    keys: Keys,
) -> list[Fuzzed]:
    """`count` records of each kind (hostile, untrusted, mutated) for `topic`."""
    data = event_data(
        topic, bucket=bucket, pinned_bucket=pinned_bucket, pool=pool, producer=keys.producer_name
    )
    records: list[Fuzzed] = []
    for make in (hostile, untrusted, mutated):
        strategy: Callable[..., st.SearchStrategy[Fuzzed]] = make
        records += draw_examples(strategy(topic, data, pool, keys), count)
    return records


# -- markers: well-formed events produced after the fuzzed ones, one per partition --


def marker(topic: str, keys: Keys, *, pinned_bucket: str) -> Fuzzed:
    """A well-formed event for `topic`, signed as its publisher would: every group must act on
    it, which it can only do if it is still consuming."""
    name = f"fuzz-marker-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    common = {
        "model_id": 1,
        "version_id": 1,
        "name": name,
        "version": "1.0.0",
        "actor": "modelgate-registry",
        "sequence": 1,
        "occurred_at": now,
        "submission_id": uuid.uuid4(),
    }
    data: BaseModel
    if topic == SUBMITTED_TOPIC:
        data = submitted_marker(name, keys.producer_name)
    elif topic == VALIDATED_TOPIC:
        data = ModelValidated(
            submission=submitted_marker(name, keys.producer_name),
            submitted_event_id=uuid.uuid4(),
            verdict=Verdict.FAILED,
            checks=[CheckResult(name="policy", status=CheckStatus.FAILED, detail="a marker")],
            validated_at=now,
        )
    elif topic == REGISTERED_TOPIC:
        data = ModelRegistered(
            **common, artifact_uri=f"s3://{pinned_bucket}/{name}/", stage=Stage.DEVELOPMENT
        )
    elif topic == TRANSITIONED_TOPIC:
        data = ModelTransitioned(
            **common,
            kind=TransitionKind.STATUS,
            from_value=VersionStatus.VALIDATING.value,
            to_value=VersionStatus.REJECTED.value,
            reason="a marker",
        )
    else:
        data = ModelArchived(**common, reason="a marker")
    event = new_event(BY_TOPIC[topic], data, source="/modelgate/fuzz", subject=f"{name}/1.0.0")
    value = encode(event)
    signer = keys.trusted(topic, data)[-1]
    headers = {**headers_for(event.type, event.id), **signer.headers(value)}
    return Fuzzed(Kind.MARKER, "a well-formed event", value, name.encode(), _as_record(headers))


def submitted_marker(name: str, submitter: str) -> ModelSubmitted:
    uri = f"s3://modelgate/staging/{name}/model.safetensors"
    return ModelSubmitted(
        submission_id=uuid.uuid4(),
        name=name,
        version="1.0.0",
        submitter=submitter,
        artifact=Artifact(
            uri=uri,
            format=ArtifactFormat.SAFETENSORS,
            files=[ArtifactFile(path="model.safetensors", uri=uri, sha256="0" * 64, size=8)],
        ),
        submitted_at=datetime.now(UTC),
    )


# -- producing, waiting for the groups, and looking at what they did --


async def produce_all(kafka: KafkaAccess, topic: str, records: Sequence[Fuzzed]) -> list[Sent]:
    """Produce `records` to `topic`, round robin over its partitions, in one go; returns
    where each landed."""
    producer = AIOKafkaProducer(
        **kafka.client_options(), enable_idempotence=True, max_request_size=1024 * 1024
    )
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        futures = []
        for n, record in enumerate(records):
            partition = partitions[n % len(partitions)]
            futures.append(
                await producer.send(
                    topic,
                    record.value,
                    key=record.key,
                    headers=list(record.headers),
                    partition=partition,
                )
            )
        landed = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [
        Sent(r, topic, meta.partition, meta.offset, decoded(topic, r.value, r.headers))
        for r, meta in zip(records, landed, strict=True)
    ]


async def committed(kafka: KafkaAccess, group: str) -> dict[tuple[str, int], int]:
    """The offsets `group` committed, by (topic, partition)."""
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


async def wait_until_consumed(
    kafka: KafkaAccess, groups: Mapping[str, str], sent: Sequence[Sent], *, timeout_s: float
) -> list[str]:
    """Wait until every group of `groups` (service -> group id) committed past every record
    of `sent`; returns, for the groups that did not by `timeout_s`, where each stands."""
    ends: dict[tuple[str, int], int] = {}
    for item in sent:
        at = (item.topic, item.partition)
        ends[at] = max(ends.get(at, 0), item.offset + 1)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        behind = []
        for service, group in groups.items():
            offsets = await committed(kafka, group)
            for at, end in sorted(ends.items()):
                if offsets.get(at, -1) < end:
                    behind.append(
                        f"{service} committed {at[0]}[{at[1]}] up to {offsets.get(at, -1)}, "
                        f"not {end}: stopped or stuck"
                    )
        if not behind or loop.time() > deadline:
            return behind
        await asyncio.sleep(0.5)


async def observe(
    database_url: str,
    seen: Sequence[Seen],
    topic: str,
    services: Sequence[str],
    sent: Sequence[Sent],
) -> Observed:
    """The effects of `sent` in each service's tables, and the dead letters the tap saw."""
    observed = Observed()
    conn = await asyncpg.connect(database_url)
    try:
        for service in services:
            ids = [
                key
                for item in sent
                if item.event is not None and (key := effect_key(service, item.event)) is not None
            ]
            rows = await conn.fetch(EFFECT_QUERIES[service], ids)
            observed.effects[service] = {row[0] for row in rows}
    finally:
        await conn.close()
    dlq = f"{topic}{DLQ_SUFFIX}"
    for record in seen:
        if record.topic != dlq or record.headers.get("dlq-original-topic") != topic:
            continue
        service = record.headers.get("dlq-consumer-group", "").rsplit("modelgate-", 1)[-1]
        at = (
            service,
            int(record.headers["dlq-original-partition"]),
            int(record.headers["dlq-original-offset"]),
        )
        observed.dead[at] = record.headers.get("dlq-reason", "")
    return observed
