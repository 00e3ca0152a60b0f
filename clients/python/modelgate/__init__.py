"""Modelgate's Python SDK: `Client` (synchronous) and `AsyncClient`, one implementation.

from modelgate import Client
with Client() as mg:                      # MODELGATE_URL / MODELGATE_TOKEN or a profile
    mg.register_model("my-model", "1.2.0", "./model", card={...})
    mg.promote("my-model", "1.2.0", reason="beats 1.1.0")
"""

from modelgate.aio import AsyncClient
from modelgate.audit_chain import ChainReport
from modelgate.audit_export import AuditExport
from modelgate.client import Client
from modelgate.config import Settings, resolve
from modelgate.errors import (
    ApiError,
    ChecksumMismatch,
    ConfigError,
    Conflict,
    Forbidden,
    GateRejected,
    ModelgateError,
    NoPreviousProduction,
    NotFound,
    Unauthorized,
    Unreachable,
    WaitTimeout,
)
from modelgate.models import Lineage, ModelCard

__all__ = [
    "ApiError",
    "AsyncClient",
    "AuditExport",
    "ChainReport",
    "ChecksumMismatch",
    "Client",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "GateRejected",
    "Lineage",
    "ModelCard",
    "ModelgateError",
    "NoPreviousProduction",
    "NotFound",
    "Settings",
    "Unauthorized",
    "Unreachable",
    "WaitTimeout",
    "resolve",
]
__version__ = "0.1.0"
