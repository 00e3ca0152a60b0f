"""The registry's domain, one object for the services to hold: `Registry`.

Where each job lives:
- `recording`: the transaction, the locked model, and recording a change (history row and
  event in the outbox, together); `Policy` and `Change`.
- `gate_side`: the gate's events (submission recorded, verdict applied); `version_fields` what
  they write on a version.
- `reviewing`: the review step and approvals (`reviews` holds its rules, `review_policy` the
  auto-approval rules).
- `commands`: stage moves and promotion (four-eyes), aliases, deployments, archive and
  restore, metadata edits.
- `authoring`: the Kubeflow API's steps (a version created empty, submitted when its model
  artifact is attached).
"""

from __future__ import annotations

from modelgate_registry.authoring import Authoring
from modelgate_registry.commands import Commands
from modelgate_registry.gate_side import GateSide
from modelgate_registry.recording import Change, Policy, trace_of

__all__ = ["Change", "Policy", "Registry", "trace_of"]


class Registry(GateSide, Commands, Authoring):
    """The registry's commands and its answers to the gate's events."""
