"""The Kubeflow API's operations on the registry's state, one class per resource combined.

Reads are plain queries that show each reader what the native API shows them (the one rule in
`visibility.Audience`: a hidden item is a 404, absent from lists). Every write goes through
the lifecycle service, so it locks the model, records history and emits its event like any
other change. A version created here starts
PENDING; once a model artifact with an `s3://` URI is attached it enters the gate
(`model.submitted` through the outbox) and the gate's verdict registers or rejects it.

Where each part lives: `registered_models`, `model_versions`, `artifacts` (and `gate_entry`),
the checks they share in `checks`, filter vocabularies in `filter_columns`, and every SQL
statement in the registry's `store/` (`models`, `versions`, `artifacts`, `pages`).
"""

from __future__ import annotations

from modelgate_registry.api.kubeflow.artifacts import Artifacts
from modelgate_registry.api.kubeflow.model_versions import ModelVersions
from modelgate_registry.api.kubeflow.registered_models import RegisteredModels
from modelgate_registry.store.pages import Paging

__all__ = ["KubeflowService", "Paging"]


class KubeflowService(RegisteredModels, ModelVersions, Artifacts):
    """Every Kubeflow operation, as the routes and the hot reads call them."""
