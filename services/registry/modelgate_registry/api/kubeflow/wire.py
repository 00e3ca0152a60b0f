"""The Kubeflow Model Registry's JSON shapes, to and from the registry's records."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from modelgate_registry.records import ArtifactRecord, ModelRecord, VersionRecord
from modelgate_shared.errors import ApiError
from modelgate_shared.query_types import in_int64

GATE_PREFIX = "modelgate."
"""Custom properties the registry adds (gate status, stage): shown, never stored from input."""

METADATA_TYPES = {
    "MetadataStringValue": "string_value",
    "MetadataIntValue": "int_value",
    "MetadataDoubleValue": "double_value",
    "MetadataBoolValue": "bool_value",
    "MetadataStructValue": "struct_value",
    "MetadataProtoValue": "proto_value",
}
MODEL_EXTRA = (
    "readme",
    "maturity",
    "language",
    "tasks",
    "provider",
    "logo",
    "licenseLink",
    "libraryName",
)
ARTIFACT_PROPERTIES = (
    "modelFormatName",
    "modelFormatVersion",
    "storageKey",
    "storagePath",
    "serviceAccountName",
    "modelSourceKind",
    "modelSourceClass",
    "modelSourceGroup",
    "modelSourceId",
    "modelSourceName",
)
ARTIFACT_TYPES = ("model-artifact", "doc-artifact", "dataset-artifact", "metric", "parameter")
ARTIFACT_STATES = (
    "UNKNOWN",
    "PENDING",
    "LIVE",
    "MARKED_FOR_DELETION",
    "DELETED",
    "ABANDONED",
    "REFERENCE",
)


def ms(moment: datetime) -> str:
    """Milliseconds since the epoch, as the string the API carries."""
    return str(int(moment.timestamp() * 1000))


MAX_PROPERTIES = 128
MAX_KEY_LENGTH = 256
MAX_VALUE_LENGTH = 16384
"""Caps on customProperties: count, key length, and each value's length (a string's
characters, or a struct's or proto's JSON). The value cap is the model card's for free text
(`intended_use`, `limitations`), so a property the card is later built from fits it."""
CARD_SHORT_KEYS = {
    "owner_team": 256,
    "license": 256,
    "training_data_version": 256,
    "code_commit": 256,
}
"""Properties the model card takes as short text (see `service._card`): capped as the card
caps them, so a version is refused when the property is sent, not when it enters the gate."""


def custom_properties(value: dict[str, Any] | None) -> dict[str, Any]:
    """Validate typed custom properties; the registry's own (`modelgate.*`) are dropped."""
    if not value:
        return {}
    if len(value) > MAX_PROPERTIES:
        raise ApiError(
            400, f"customProperties holds {len(value)} entries; at most {MAX_PROPERTIES}"
        )
    checked: dict[str, Any] = {}
    for key, sent in value.items():
        if key.startswith(GATE_PREFIX):
            continue
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                400, f"customProperties keys are 1 to {MAX_KEY_LENGTH} characters: {key[:64]!r}"
            )
        if not isinstance(sent, dict) or sent.get("metadataType") not in METADATA_TYPES:
            raise ApiError(
                400,
                f"customProperties[{key!r}] needs a metadataType, one of "
                f"{', '.join(METADATA_TYPES)}",
            )
        item = dict(sent)
        field = METADATA_TYPES[item["metadataType"]]
        if field not in item:
            raise ApiError(
                400, f"customProperties[{key!r}] is {item['metadataType']} but has no {field}"
            )
        item[field] = _typed_value(key, field, item[field])
        checked[key] = item
    return checked


def _typed_value(key: str, field: str, value: Any) -> Any:
    """The value of one property, checked against its declared type and the caps."""
    where = f"customProperties[{key!r}].{field}"
    if field == "int_value":
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f"{where} must be an integer (as a string)") from exc
        if isinstance(value, bool) or not in_int64(number):
            raise ApiError(400, f"{where} must be a 64-bit integer (as a string)")
        return str(number)
    if field == "double_value":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ApiError(400, f"{where} must be a number")
        if not math.isfinite(value):
            raise ApiError(400, f"{where} must be a finite number")
        return value
    if field == "bool_value":
        if not isinstance(value, bool):
            raise ApiError(400, f"{where} must be true or false")
        return value
    if field == "string_value":
        if not isinstance(value, str):
            raise ApiError(400, f"{where} must be a string")
        cap = CARD_SHORT_KEYS.get(key, MAX_VALUE_LENGTH)
        if len(value) > cap:
            raise ApiError(400, f"{where} holds {len(value)} characters; at most {cap}")
        return value
    if len(json.dumps(value)) > MAX_VALUE_LENGTH:
        raise ApiError(400, f"{where} exceeds {MAX_VALUE_LENGTH} characters of JSON")
    return value


def _string(value: str) -> dict[str, str]:
    return {"string_value": value, "metadataType": "MetadataStringValue"}


class Incoming(BaseModel):
    """Fields a client sent; `model_fields_set` says which (PATCH merges those only)."""

    model_config = ConfigDict(extra="ignore")

    def given(self, *names: str) -> dict[str, Any]:
        return {n: getattr(self, n) for n in names if n in self.model_fields_set}


class RegisteredModelIn(Incoming):
    name: str | None = Field(None, min_length=1, max_length=253)
    description: str | None = Field(None, max_length=16384)
    externalId: str | None = None
    owner: str | None = Field(None, max_length=256)
    state: Literal["LIVE", "ARCHIVED"] | None = None
    customProperties: dict[str, Any] | None = None
    license: str | None = Field(None, max_length=256)
    readme: str | None = None
    maturity: str | None = None
    language: list[str] | None = None
    tasks: list[str] | None = None
    provider: str | None = None
    logo: str | None = None
    licenseLink: str | None = None
    libraryName: str | None = None


class ModelVersionIn(Incoming):
    name: str | None = Field(None, min_length=1, max_length=128)
    registeredModelId: str | None = Field(None, pattern=r"^[1-9][0-9]{0,8}$")
    description: str | None = Field(None, max_length=16384)
    externalId: str | None = None
    author: str | None = None
    state: Literal["LIVE", "ARCHIVED"] | None = None
    customProperties: dict[str, Any] | None = None


def columns_given(body: RegisteredModelIn | ModelVersionIn, *names: str) -> dict[str, Any]:
    """The columns a create or PATCH body sets: `names` as sent (a null description as ""),
    its externalId, and its customProperties, replaced whole (the registry's own
    modelgate.* properties stay ours)."""
    fields = body.given(*names)
    if "description" in fields and fields["description"] is None:
        fields["description"] = ""
    if "externalId" in body.model_fields_set:
        fields["external_id"] = body.externalId
    if "customProperties" in body.model_fields_set:
        fields["custom_properties"] = custom_properties(body.customProperties)
    return fields


class ArtifactIn(Incoming):
    artifactType: str = "model-artifact"
    name: str | None = None
    uri: str | None = None
    state: str | None = None
    description: str | None = None
    externalId: str | None = None
    customProperties: dict[str, Any] | None = None
    modelFormatName: str | None = None
    modelFormatVersion: str | None = None
    storageKey: str | None = None
    storagePath: str | None = None
    serviceAccountName: str | None = None
    modelSourceKind: str | None = None
    modelSourceClass: str | None = None
    modelSourceGroup: str | None = None
    modelSourceId: str | None = None
    modelSourceName: str | None = None

    def check(self) -> None:
        if self.artifactType not in ARTIFACT_TYPES:
            raise ApiError(
                400, f"artifactType {self.artifactType!r} is not one of {', '.join(ARTIFACT_TYPES)}"
            )
        if self.state is not None and self.state not in ARTIFACT_STATES:
            raise ApiError(400, f"state {self.state!r} is not one of {', '.join(ARTIFACT_STATES)}")

    def properties(self) -> dict[str, Any]:
        return {k: v for k, v in self.given(*ARTIFACT_PROPERTIES).items() if v is not None}


Fields = Mapping[str, Any] | asyncpg.Record
"""A row's columns by name: an asyncpg row as a lean read fetched it, or a record's fields."""


def fields_of(record: BaseModel | Fields) -> Fields:
    """A record's fields without a copy (its `__dict__`), or the row itself."""
    return vars(record) if isinstance(record, BaseModel) else record


def _common(row: Fields) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(row["id"]),
        "createTimeSinceEpoch": ms(row["created_at"]),
        "lastUpdateTimeSinceEpoch": ms(row["updated_at"]),
    }
    if row.get("external_id"):
        body["externalId"] = row["external_id"]
    return body


MODEL_COLUMNS = (
    "m.id, m.name, m.description, m.state, m.owner, m.license, m.custom_properties, "
    "m.kubeflow, m.external_id, m.created_at, m.updated_at"
)
"""What `model_out` reads: a lean read selects these, not `m.*`."""


def model_out(record: ModelRecord | Fields) -> dict[str, Any]:
    row = fields_of(record)
    body = {
        **_common(row),
        "name": row["name"],
        "description": row["description"],
        "state": row["state"],
        "customProperties": row["custom_properties"],
        **row["kubeflow"],
    }
    if row["owner"] is not None:
        body["owner"] = row["owner"]
    if row["license"] is not None:
        body["license"] = row["license"]
    return body


VERSION_COLUMNS = (
    "v.id, v.model_id, v.version, v.status, v.status_reason, v.stage, v.submission_id, "
    "v.author, v.description, v.custom_properties, v.external_id, v.created_at, v.updated_at, "
    "v.review, v.signer"
)
"""What `version_out` reads (the model card, lineage, validation report and benchmark, the
bulk of a row, are not part of the Kubeflow shape)."""


def version_state(status: str) -> str:
    """A version's Kubeflow state: ARCHIVED when archived, LIVE in every other status
    (`filter_columns` says the same in SQL, for filterQuery)."""
    return "ARCHIVED" if status == "ARCHIVED" else "LIVE"


def version_out(record: VersionRecord | Fields) -> dict[str, Any]:
    row = fields_of(record)
    status = row["status"]
    gate = {
        f"{GATE_PREFIX}status": _string(status),
        f"{GATE_PREFIX}submission_id": _string(str(row["submission_id"])),
    }
    if row["stage"]:
        gate[f"{GATE_PREFIX}stage"] = _string(row["stage"])
    if row["status_reason"]:
        gate[f"{GATE_PREFIX}status_reason"] = _string(row["status_reason"][:2000])
    review = row["review"]
    if review:
        # Who let it into the catalog (or refused it), as the native API's `review` says.
        gate[f"{GATE_PREFIX}review_decision"] = _string(str(review.get("decision", "")))
        gate[f"{GATE_PREFIX}reviewer"] = _string(str(review.get("by", "")))
        gate[f"{GATE_PREFIX}review_reason"] = _string(str(review.get("reason", ""))[:2000])
    signer = row["signer"]
    if signer:
        # Who signed the model (OMS), as the validator verified it.
        gate[f"{GATE_PREFIX}signer"] = _string(str(signer.get("identity", ""))[:2000])
        gate[f"{GATE_PREFIX}signer_trusted_as"] = _string(str(signer.get("trusted_as", "")))
    body = {
        **_common(row),
        "name": row["version"],
        "registeredModelId": str(row["model_id"]),
        "description": row["description"],
        "state": version_state(status),
        "customProperties": {**row["custom_properties"], **gate},
    }
    if row["author"] is not None:
        body["author"] = row["author"]
    return body


def artifact_out(record: ArtifactRecord) -> dict[str, Any]:
    body = {
        **_common(vars(record)),
        "artifactType": record.artifact_type,
        "state": record.state,
        "customProperties": record.custom_properties,
        **record.properties,
    }
    for field, value in (
        ("name", record.name),
        ("uri", record.uri),
        ("description", record.description),
    ):
        if value is not None:
            body[field] = value
    return body


def page(items: list[dict[str, Any]], next_token: str, page_size: int) -> dict[str, Any]:
    return {"items": items, "nextPageToken": next_token, "pageSize": page_size, "size": len(items)}
