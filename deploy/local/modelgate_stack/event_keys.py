"""The stack's event-signing keys: one per service, a demo producer's, the trusted-keys file.

All in the state directory, private keys 0600. Each service is started with only its own key
(`service_env`); the demo producer's key is for the person running the stack (stack.env), to
publish model.submitted straight to Kafka as `ci-bot` (examples/publish_submission.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelgate_shared.signing.grants import SERVICE_GRANTS
from modelgate_shared.signing.provision import provision

DEMO_PRODUCER = "ci-bot"


@dataclass(frozen=True)
class EventKeys:
    state_dir: Path

    @property
    def directory(self) -> Path:
        return self.state_dir / "event-keys"

    @property
    def trusted_keys(self) -> Path:
        return self.directory / "trusted-keys.json"

    @property
    def producer_key(self) -> Path:
        return self.directory / f"producer-{DEMO_PRODUCER}.pem"

    def service_key(self, service: str) -> Path:
        return self.directory / f"{service}.pem"

    def provision(self) -> None:
        provision(
            self.trusted_keys,
            {service: self.service_key(service) for service in SERVICE_GRANTS},
            {DEMO_PRODUCER: self.producer_key},
        )

    def common_env(self) -> dict[str, str]:
        """For every service: which keys to trust (public keys only)."""
        return {"MODELGATE_TRUSTED_KEYS": str(self.trusted_keys)}

    def service_env(self, service: str) -> dict[str, str]:
        """One service's own signing key (none for a service that publishes no events)."""
        if service not in SERVICE_GRANTS:
            return {}
        return {"MODELGATE_SIGNING_KEY": str(self.service_key(service))}

    def user_env(self) -> dict[str, str]:
        """For the person running the stack (stack.env), never for a service."""
        return {
            "MODELGATE_PRODUCER_KEY": str(self.producer_key),
            "MODELGATE_PRODUCER_SUBJECT": DEMO_PRODUCER,
        }
