"""The trace backend the tests read traces back from, through its query API.

Given by the environment (`OTEL_EXPORTER_OTLP_ENDPOINT` and `TRACES_QUERY_URL`, as
`.local/stack.env` has them), otherwise the local stack's Jaeger, started if needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from modelgate_stack.config import StackConfig
from modelgate_stack.stack import Stack
from modelgate_testkit.infra import ROOT, Infra


@dataclass(frozen=True)
class Span:
    span_id: str
    parent_id: str | None
    name: str
    service: str
    kind: str
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(name, attributes) of each span event, in time order."""


@dataclass
class Trace:
    trace_id: str
    spans: dict[str, Span] = field(default_factory=dict)

    @property
    def services(self) -> set[str]:
        return {s.service for s in self.spans.values()}

    def named(self, name: str, service: str | None = None) -> list[Span]:
        return [
            s
            for s in self.spans.values()
            if s.name == name and (service is None or s.service == service)
        ]

    def one(self, name: str, service: str | None = None) -> Span:
        found = self.named(name, service)
        assert found, f"no span {name!r} ({service or 'any service'}) in {self.describe()}"
        return found[0]

    def parent(self, span: Span) -> Span | None:
        return self.spans.get(span.parent_id) if span.parent_id else None

    def ancestors(self, span: Span) -> list[Span]:
        chain: list[Span] = []
        current = self.parent(span)
        while current is not None and len(chain) < 100:
            chain.append(current)
            current = self.parent(current)
        return chain

    def dangling(self) -> list[Span]:
        """Spans whose parent is named but not (yet) in the trace."""
        return [s for s in self.spans.values() if s.parent_id and s.parent_id not in self.spans]

    def describe(self) -> str:
        return "; ".join(
            sorted(f"{s.service}: {s.name} <- {s.parent_id}" for s in self.spans.values())
        )


def _tag_value(tag: dict[str, Any]) -> Any:
    return tag.get("value")


def _event(log: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A span event as Jaeger's v1 model shows it: a log whose `event` field is the name."""
    fields = {f["key"]: _tag_value(f) for f in log.get("fields") or []}
    return str(fields.pop("event", "")), fields


def parse_jaeger(trace_id: str, body: dict[str, Any]) -> Trace:
    """Jaeger's /api/traces/<id> answer (its v1 JSON model) as a Trace."""
    result = Trace(trace_id)
    for data in body.get("data") or []:
        processes = {k: v["serviceName"] for k, v in data.get("processes", {}).items()}
        for raw in data.get("spans", []):
            parents = [
                r["spanID"]
                for r in raw.get("references") or []
                if r.get("refType") == "CHILD_OF" and r.get("traceID") == raw["traceID"]
            ]
            tags = {t["key"]: _tag_value(t) for t in raw.get("tags") or []}
            result.spans[raw["spanID"]] = Span(
                span_id=raw["spanID"],
                parent_id=parents[0] if parents else None,
                name=raw["operationName"],
                service=processes.get(raw["processID"], "?"),
                kind=str(tags.get("span.kind", "")),
                attributes=tags,
                events=[_event(log) for log in raw.get("logs") or []],
            )
    return result


@dataclass(frozen=True)
class TraceBackend:
    otlp_endpoint: str
    query_url: str

    def service_env(self) -> dict[str, str]:
        """What a service needs to export its spans here, promptly."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_SDK_DISABLED": "false",
        }

    async def fetch(self, trace_id: str) -> Trace:
        async with httpx.AsyncClient(base_url=self.query_url, timeout=10) as client:
            answer = await client.get(f"/api/traces/{trace_id}")
        if answer.status_code == 404:
            return Trace(trace_id)
        answer.raise_for_status()
        return parse_jaeger(trace_id, answer.json())

    async def wait_for(
        self, trace_id: str, complete: Callable[[Trace], bool], *, timeout_s: float = 60
    ) -> Trace:
        """Poll until `complete(trace)` holds (spans arrive in batches, in any order)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            found = await self.fetch(trace_id)
            if complete(found):
                return found
            if loop.time() > deadline:
                raise AssertionError(
                    f"trace {trace_id} incomplete after {timeout_s}s: {found.describe()}"
                )
            await asyncio.sleep(0.5)


def choose_trace_backend(infra: Infra) -> TraceBackend:
    if infra.otlp_endpoint and infra.traces_query_url:
        return TraceBackend(infra.otlp_endpoint, infra.traces_query_url)
    # None given: the local stack's Jaeger (built once, then cached), as `make up` runs it.
    jaeger = Stack(StackConfig(root=ROOT)).ensure_jaeger()
    return TraceBackend(jaeger.otlp_endpoint, jaeger.query_url)
