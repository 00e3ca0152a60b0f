"""Composition root of the validator service: settings in, a runnable app out."""

from __future__ import annotations

from fastapi import FastAPI

from modelgate_shared.bootstrap import build_verifier
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app
from modelgate_validator.settings import ValidatorSettings


def build_app(settings: ValidatorSettings) -> FastAPI:
    readiness = Readiness()
    return create_app(
        title="modelgate-validator",
        version="0.1.0",
        description="Modelgate validator: checks each submission.",
        verifier=build_verifier(settings),
        readiness=readiness,
    )
