"""Keys for a stack: one private key per service, producer keys, and the trusted-keys file.

Idempotent: existing keys are kept, and the trusted-keys file keeps whatever else it lists
(producers an operator registered by hand); only the entries of the principals provisioned
here are replaced, so a regenerated key also revokes the one it replaces.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from modelgate_shared.signing.grants import SERVICE_GRANTS, producer_entry, service_entry
from modelgate_shared.signing.keys import key_id, load_or_generate, parse_public_pem
from modelgate_shared.signing.trust import TrustedKey, TrustFile, write_trust_file


def provision(
    trusted_keys: Path,
    service_keys: Mapping[str, Path],
    producer_keys: Mapping[str, Path] | None = None,
) -> None:
    """Create the missing keys (0600) and register all of them in `trusted_keys`.
    `service_keys`: service name (a key of SERVICE_GRANTS) -> private key path;
    `producer_keys`: producer subject -> private key path."""
    entries = [
        service_entry(service, load_or_generate(path).public_key())
        for service, path in service_keys.items()
        if service in SERVICE_GRANTS
    ]
    entries += [
        producer_entry(subject, load_or_generate(path).public_key())
        for subject, path in (producer_keys or {}).items()
    ]
    register(trusted_keys, entries, replace_names=True)


def register(path: Path, entries: Iterable[TrustedKey], *, replace_names: bool = False) -> None:
    """Add `entries` to the trusted-keys file at `path` (created if absent). An entry with the
    same key id is replaced; with `replace_names`, so is every entry of the same name."""
    new = list(entries)
    existing = TrustFile.model_validate(json.loads(path.read_text())).keys if path.exists() else []
    ids = {_id(e) for e in new}
    names = {e.name for e in new} if replace_names else set()
    kept = [e for e in existing if _id(e) not in ids and e.name not in names]
    write_trust_file(path, kept + new)


def _id(entry: TrustedKey) -> str:
    return key_id(parse_public_pem(entry.public_key))
