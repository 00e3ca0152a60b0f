"""The gate's submission policy, shared so ingest can refuse at once what the validator would.

Ingest applies the rules that need no artifact bytes before it accepts an upload (4xx with the
reason); the validator applies all of them again to every submission, since users may publish
`model.submitted` themselves.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from modelgate_shared.env_values import CsvList
from modelgate_shared.events import ModelCard, ModelSubmitted
from modelgate_shared.names import identity_problems

CARD_FIELDS = (
    "description",
    "owner_team",
    "license",
    "intended_use",
    "limitations",
    "training_data_version",
    "code_commit",
)


class PolicySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    required_card_fields: CsvList = Field(
        default_factory=lambda: ["description", "owner_team", "license"],
        validation_alias="MODELGATE_REQUIRED_CARD_FIELDS",
    )
    license_allowlist: CsvList = Field(
        default_factory=lambda: [
            "apache-2.0",
            "mit",
            "bsd-2-clause",
            "bsd-3-clause",
            "llama3.1",
            "llama3.2",
            "gemma",
            "cc-by-4.0",
            "cc-by-sa-4.0",
            "openrail",
            "proprietary-internal",
        ],
        validation_alias="MODELGATE_LICENSE_ALLOWLIST",
    )


def card_problems(card: ModelCard, policy: PolicySettings) -> list[str]:
    missing = [f for f in policy.required_card_fields if not getattr(card, f, None)]
    return [f"model card lacks required field(s): {', '.join(missing)}"] if missing else []


def license_problems(card: ModelCard, policy: PolicySettings) -> list[str]:
    license_id = (card.license or "").lower()
    if license_id and license_id not in policy.license_allowlist:
        allowed = ", ".join(policy.license_allowlist)
        return [f"licence {license_id!r} is not on the allow-list ({allowed})"]
    return []


def submission_problems(submission: ModelSubmitted, policy: PolicySettings) -> list[str]:
    """Everything wrong with a submission that can be known without reading its artifact."""
    return [
        *identity_problems(submission.name, submission.version),
        *card_problems(submission.model_card, policy),
        *license_problems(submission.model_card, policy),
    ]
