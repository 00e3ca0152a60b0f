"""Who sees what in the catalog: the one rule every API, count and list applies.

Roles that submit or administer models (`submission:read`) see everything. Everyone else
(viewers, developers) sees live models and, of those, registered versions only: what is
pending, rejected or archived has not passed the gate (or has left the catalog), and its
rejection reasons and storage locations are not theirs to read. An artifact is seen with the
version it belongs to; one that belongs to no version is not part of the catalog.

Each rule exists twice, as a Python predicate for a row already read and as a SQL predicate
for a query, both built from the same constants below, so the native API, the Kubeflow API
and the counts cannot drift apart. A hidden single item answers 404 (its existence is not
confirmed); hidden items are absent from lists and counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgate_shared.auth import Permission, Principal
from modelgate_shared.events import VersionStatus

VISIBLE_MODEL_STATE = "LIVE"
VISIBLE_VERSION_STATUS = VersionStatus.REGISTERED.value


@dataclass(frozen=True)
class Audience:
    """The reader a query answers; `everything` for roles that review submissions."""

    everything: bool

    @classmethod
    def of(cls, principal: Principal) -> Audience:
        return cls(everything=principal.can(Permission.SUBMISSION_READ))

    # -- rows already read --------------------------------------------------------------------

    def sees_model(self, model_state: str) -> bool:
        return self.everything or model_state == VISIBLE_MODEL_STATE

    def sees_version(self, model_state: str, status: str) -> bool:
        return self.everything or (
            model_state == VISIBLE_MODEL_STATE and status == VISIBLE_VERSION_STATUS
        )

    # -- SQL predicates (aliases name the tables in the caller's query) -----------------------

    def model_sql(self, m: str = "m") -> str:
        return "TRUE" if self.everything else f"{m}.state = '{VISIBLE_MODEL_STATE}'"

    def version_sql(self, v: str = "v") -> str:
        """Needs only the versions table: the model's state is looked up by the version."""
        if self.everything:
            return "TRUE"
        live_model = (
            f"SELECT 1 FROM registry.models vm WHERE vm.id = {v}.model_id "  # noqa: S608 (constants)
            f"AND vm.state = '{VISIBLE_MODEL_STATE}'"
        )
        return f"({v}.status = '{VISIBLE_VERSION_STATUS}' AND EXISTS ({live_model}))"

    def artifact_sql(self, a: str = "a") -> str:
        if self.everything:
            return "TRUE"
        seen = self.version_sql("av")
        own_version = f"SELECT 1 FROM registry.versions av WHERE av.id = {a}.version_id"  # noqa: S608
        return f"EXISTS ({own_version} AND {seen})"
