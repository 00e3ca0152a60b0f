"""Policy: name, SemVer, required model-card fields, licence allow-list, and an artifact root
that its files share, in buckets submissions may reference.

Duplicate versions are the registry's to catch: only it knows what is registered.
"""

from __future__ import annotations

from modelgate_shared.policy import PolicySettings, submission_problems
from modelgate_validator.checks.base import CheckContext, Outcome


class PolicyCheck:
    name = "policy"
    needs_storage = False

    def __init__(self, policy: PolicySettings, allowed_buckets: set[str]) -> None:
        self.policy = policy
        self.allowed_buckets = allowed_buckets

    async def run(self, ctx: CheckContext) -> Outcome:
        problems = submission_problems(ctx.submission, self.policy, self.allowed_buckets)
        if problems:
            return Outcome.failed("; ".join(problems))
        return Outcome.passed(
            "name, SemVer version, model card, licence and artifact location are acceptable"
        )
