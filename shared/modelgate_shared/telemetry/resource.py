"""The tracer provider's resource, its hash computed once (imported only with tracing on)."""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource


class _Resource(Resource):
    """A resource whose hash is computed once: the exporter hashes the resource of every
    span it encodes, and the SDK's hash serialises every attribute to JSON each time."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource.attributes, resource.schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)


def hashed_once(attributes: dict[str, str]) -> Resource:
    """`Resource.create(attributes)` (the environment's `OTEL_RESOURCE_ATTRIBUTES` and
    `OTEL_SERVICE_NAME` merged in, as the SDK does), hashed once."""
    return _Resource(Resource.create(attributes))
