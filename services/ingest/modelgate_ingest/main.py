"""Composition root of the ingest service: settings in, a runnable app out."""

from __future__ import annotations

from fastapi import FastAPI

from modelgate_ingest.settings import IngestSettings
from modelgate_shared.bootstrap import build_verifier
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app


def build_app(settings: IngestSettings) -> FastAPI:
    readiness = Readiness()
    return create_app(
        title="modelgate-ingest",
        version="0.1.0",
        description="Modelgate ingest: takes submissions and stores their artifacts.",
        verifier=build_verifier(settings),
        readiness=readiness,
    )
