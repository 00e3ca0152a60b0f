"""The signing policy: whose OMS signatures are trusted for which models, and where one is
required.

Data, a YAML (or JSON) file named by `MODELGATE_SIGNING_POLICY`, read again whenever it
changes (checked at each submission), like the registry's review policy:

```yaml
signers:
  - name: ml-platform-release          # a public key (EC, PEM), inline or as a path
    key_file: /etc/modelgate/signers/ml-platform.pub
  - name: corp-pki                     # CA certificates (PEM) and the identities they may vouch for
    ca: |
      -----BEGIN CERTIFICATE-----
      ...
    identities: ["CN=release-bot,O=Example", "*@ml.example.com"]
rules:
  - model_name: "prod-*"               # shell pattern; owner_team: [..] matches the model card
    signers: [ml-platform-release, corp-pki]
    required: true                     # an unsigned model fails
```

Every rule that matches a submission (all the conditions it states hold) adds its signers to
the ones trusted for it, and a signature is required if any matching rule requires one.

A policy that cannot be read or is invalid is never half-applied: the last good one stays in
force and the error is logged; with no good one yet, every submission fails the signature
check with the error (fail closed: a typo stops models, it never lets unsigned ones through).
"""

from __future__ import annotations

import fnmatch
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelgate_shared.policy_file import PolicyFile, PolicyFileError

log = logging.getLogger("modelgate.validator.signing_policy")

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Signer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=NAME_PATTERN)
    key: str | None = None
    """An EC public key, PEM (what `model_signing sign key` pairs with)."""
    key_file: Path | None = None
    ca: str | None = None
    """CA certificates, PEM (one or more): a certificate-based signature must chain to one."""
    ca_file: Path | None = None
    identities: list[str] | None = None
    """Shell patterns on the signing certificate's subject (RFC 4514, e.g. `CN=bot,O=Example`)
    or any of its e-mail, URI or DNS alternative names. Required with a CA."""
    sigstore_identity: str | None = Field(default=None, max_length=1024)
    """Keyless (Sigstore) signing: the identity the short-lived certificate must name (an
    e-mail, or a CI workflow's URI), exactly."""
    sigstore_issuer: str | None = Field(default=None, max_length=1024)
    """The OpenID Connect issuer that vouched for that identity."""
    trust_config_file: Path | None = None
    """Sigstore trust configuration (ClientTrustConfig JSON: Fulcio, Rekor, timestamp roots).
    The gate never fetches a trust root itself; keyless needs this file."""

    @model_validator(mode="after")
    def _one_kind(self) -> Signer:
        keyless = [self.sigstore_identity, self.sigstore_issuer, self.trust_config_file]
        kinds = [bool(self.key or self.key_file), bool(self.ca or self.ca_file), any(keyless)]
        if sum(kinds) != 1:
            raise ValueError(
                "a signer has one of: key/key_file, ca/ca_file, or "
                "sigstore_identity + sigstore_issuer + trust_config_file"
            )
        if (self.key and self.key_file) or (self.ca and self.ca_file):
            raise ValueError("give the PEM inline or as a file, not both")
        if kinds[1] and not self.identities:
            raise ValueError("a CA signer lists the identities it may vouch for")
        if kinds[2] and not all(keyless):
            raise ValueError(
                "a keyless signer needs sigstore_identity, sigstore_issuer and trust_config_file"
            )
        return self

    @property
    def method(self) -> str:
        if self.key or self.key_file:
            return "key"
        return "certificate" if self.ca or self.ca_file else "sigstore"

    def pem(self, base: Path) -> bytes:
        """The key's or CA's PEM; for a keyless signer, the trust configuration's JSON."""
        inline = self.key or self.ca
        if inline:
            return inline.encode()
        path = self.key_file or self.ca_file or self.trust_config_file
        assert path is not None
        return (path if path.is_absolute() else base / path).read_bytes()

    def allows(self, subject: str, alternative_names: tuple[str, ...]) -> bool:
        return any(
            fnmatch.fnmatchcase(candidate, pattern)
            for pattern in self.identities or ()
            for candidate in (subject, *alternative_names)
        )


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: str | None = Field(default=None, max_length=256)
    owner_team: list[str] | None = None
    signers: list[str] = Field(default_factory=list)
    required: bool = False


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signers: list[Signer] = Field(default_factory=list, max_length=1000)
    rules: list[Rule] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _known_signers(self) -> PolicyDocument:
        names = [s.name for s in self.signers]
        if len(set(names)) != len(names):
            raise ValueError("signer names must be unique")
        unknown = {n for r in self.rules for n in r.signers} - set(names)
        if unknown:
            raise ValueError(f"rules name unknown signers: {', '.join(sorted(unknown))}")
        return self


@dataclass(frozen=True)
class TrustedSigner:
    name: str
    method: str
    pem: bytes
    signer: Signer


@dataclass(frozen=True)
class Decision:
    """What the policy says about one submission."""

    trusted: tuple[TrustedSigner, ...]
    required: bool
    rules: tuple[int, ...]
    """Indexes of the rules that matched (for the check's detail)."""


@dataclass(frozen=True)
class LoadedPolicy:
    document: PolicyDocument
    keys: dict[str, bytes]

    def decide(self, name: str, owner_team: str | None) -> Decision:
        matched = [
            (i, r)
            for i, r in enumerate(self.document.rules)
            if (r.model_name is None or fnmatch.fnmatchcase(name, r.model_name))
            and (r.owner_team is None or owner_team in r.owner_team)
        ]
        by_name = {s.name: s for s in self.document.signers}
        names = dict.fromkeys(n for _, r in matched for n in r.signers)
        trusted = tuple(
            TrustedSigner(n, by_name[n].method, self.keys[n], by_name[n]) for n in names
        )
        return Decision(trusted, any(r.required for _, r in matched), tuple(i for i, _ in matched))


def _check_pem(signer: Signer, pem: bytes) -> None:
    try:
        if signer.method == "key":
            key = serialization.load_pem_public_key(pem)
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise ValueError("not an elliptic-curve public key")
        elif signer.method == "sigstore":
            if not isinstance(json.loads(pem), dict):
                raise ValueError("a trust configuration is a JSON object")
        else:
            x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise yaml.YAMLError(f"signer {signer.name}: unusable PEM: {exc}") from exc


class SigningPolicy:
    """The policy file, re-read when it changes; `current()` is None when none applies yet."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file = PolicyFile(path, PolicyDocument, "signing policy") if path else None
        self._policy: LoadedPolicy | None = None
        self.error: str | None = None
        self.refresh()

    @property
    def configured(self) -> bool:
        return self.path is not None

    def current(self) -> LoadedPolicy | None:
        self.refresh()
        return self._policy

    def refresh(self) -> None:
        if self._file is None:
            return
        try:
            document = self._file.read_if_changed()
            if document is None:
                return
            base = self._file.path.parent
            keys = {s.name: s.pem(base) for s in document.signers}
            for signer in document.signers:
                _check_pem(signer, keys[signer.name])
        except PolicyFileError as exc:
            self._failed(str(exc))
            return
        except (OSError, yaml.YAMLError) as exc:
            self._failed(f"cannot use {self.path}: {exc}")
            return
        self._policy = LoadedPolicy(document, keys)
        self.error = None
        log.info(
            "signing policy loaded from %s: %d signer(s), %d rule(s)",
            self.path,
            len(document.signers),
            len(document.rules),
        )

    def _failed(self, error: str) -> None:
        if error != self.error:
            log.error("signing policy not changed: %s", error)
        self.error = error
