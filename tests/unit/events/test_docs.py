"""docs/ holds exactly what the models generate: `make docs` after any contract change."""

from __future__ import annotations

import json
from pathlib import Path

from modelgate_shared.events.docs import render

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_generated_documents_are_up_to_date() -> None:
    stale = [
        rel
        for rel, text in render().items()
        if not (DOCS / rel).exists() or (DOCS / rel).read_text() != text
    ]
    assert stale == [], f"docs/ is stale, run `make docs`: {stale}"


def test_asyncapi_document_lists_every_topic_and_resolves_its_refs() -> None:
    doc = json.loads(render()["asyncapi.json"])
    assert doc["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {
        "model.submitted",
        "model.validated",
        "model.registered",
        "model.transitioned",
        "model.archived",
    }
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/')[1:]}:
        node = doc
        for key in ref.split("/"):
            node = node[key]
        assert node, ref
