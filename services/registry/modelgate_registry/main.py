"""Composition root of the registry service: settings in, a runnable app out."""

from __future__ import annotations

from fastapi import FastAPI

from modelgate_registry.settings import RegistrySettings
from modelgate_shared.bootstrap import build_verifier
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app


def build_app(settings: RegistrySettings) -> FastAPI:
    readiness = Readiness()
    return create_app(
        title="modelgate-registry",
        version="0.1.0",
        description="Modelgate registry: the catalog and its lifecycle.",
        verifier=build_verifier(settings),
        readiness=readiness,
    )
