"""What each field a Kubeflow `filterQuery` may name means in SQL, per resource."""

from __future__ import annotations

from modelgate_registry.api.kubeflow.filter_query import Column

_TIME = "(extract(epoch FROM {t}.{c}) * 1000)::bigint"
MODEL_COLUMNS = {
    "id": Column("m.id", "number"),
    "name": Column("m.name", "text"),
    "state": Column("m.state", "text"),
    "externalId": Column("m.external_id", "text"),
    "description": Column("m.description", "text"),
    "owner": Column("m.owner", "text"),
    "createTimeSinceEpoch": Column(_TIME.format(t="m", c="created_at"), "number"),
    "lastUpdateTimeSinceEpoch": Column(_TIME.format(t="m", c="updated_at"), "number"),
}
VERSION_COLUMNS = {
    "id": Column("v.id", "number"),
    "name": Column("v.version", "text"),
    "state": Column("(CASE WHEN v.status = 'ARCHIVED' THEN 'ARCHIVED' ELSE 'LIVE' END)", "text"),
    "externalId": Column("v.external_id", "text"),
    "description": Column("v.description", "text"),
    "author": Column("v.author", "text"),
    "registeredModelId": Column("v.model_id", "number"),
    "createTimeSinceEpoch": Column(_TIME.format(t="v", c="created_at"), "number"),
    "lastUpdateTimeSinceEpoch": Column(_TIME.format(t="v", c="updated_at"), "number"),
}
ARTIFACT_COLUMNS = {
    "id": Column("a.id", "number"),
    "name": Column("a.name", "text"),
    "uri": Column("a.uri", "text"),
    "state": Column("a.state", "text"),
    "externalId": Column("a.external_id", "text"),
    "artifactType": Column("a.artifact_type", "text"),
    "modelFormatName": Column("(a.properties ->> 'modelFormatName')", "text"),
    "createTimeSinceEpoch": Column(_TIME.format(t="a", c="created_at"), "number"),
    "lastUpdateTimeSinceEpoch": Column(_TIME.format(t="a", c="updated_at"), "number"),
}
