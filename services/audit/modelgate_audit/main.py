"""Composition root of the audit service: settings in, a runnable app out."""

from __future__ import annotations

from fastapi import FastAPI

from modelgate_audit.settings import AuditSettings
from modelgate_shared.bootstrap import build_verifier
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app
from modelgate_shared.telemetry import setup_telemetry


def build_app(settings: AuditSettings) -> FastAPI:
    setup_telemetry(settings, version="0.1.0")
    readiness = Readiness()
    return create_app(
        title="modelgate-audit",
        version="0.1.0",
        description="Modelgate audit: the hash-chained audit log.",
        verifier=build_verifier(settings),
        readiness=readiness,
    )
