"""OpenSSF Model Signing (OMS) signatures: verify a downloaded model offline, sign one before
submitting.

`verify_directory` needs only `cryptography` (a dependency of the SDK already): it checks the
DSSE envelope of an OMS bundle signed with an EC key (model-signing's `key` method, the gate's
`modelgate.sig`), then hashes every file of the directory against the signed manifest, strictly:
every file covered, nothing signed missing, every SHA-256 equal. The same bundles verify with
the upstream `model_signing verify key` (the e2e tests run both). `sign_directory` uses
model-signing itself: `pip install 'modelgate[signing]'`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from modelgate.errors import ModelgateError

GATE_SIGNATURE = "modelgate.sig"
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
CHUNK = 8 * 1024 * 1024


class SignatureError(ModelgateError):
    """The model does not verify: the reason is the message."""


@dataclass
class VerifyReport:
    directory: str
    signature: str
    key_fingerprint: str
    files: dict[str, str] = field(default_factory=dict)
    """Each verified path and its SHA-256."""


def key_fingerprint(public_key_pem: bytes) -> str:
    key = serialization.load_pem_public_key(public_key_pem)
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(pem).hexdigest()


def _pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _hash_algorithm(key: ec.EllipticCurvePublicKey) -> hashes.HashAlgorithm:
    size = key.curve.key_size
    if size <= 256:
        return hashes.SHA256()
    if size <= 384:
        return hashes.SHA384()
    return hashes.SHA512()


def signed_manifest(bundle_bytes: bytes, public_key_pem: bytes) -> dict[str, str]:
    """The path → SHA-256 manifest an OMS key-method bundle signs, once its signature checked
    out against `public_key_pem` (SignatureError otherwise)."""
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"unusable public key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignatureError("the public key is not an elliptic-curve key")
    try:
        bundle = json.loads(bundle_bytes)
        if bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
            raise SignatureError(f"not an OMS bundle (mediaType {bundle.get('mediaType')!r})")
        hint = (bundle["verificationMaterial"].get("publicKey") or {}).get("hint")
        envelope = bundle["dsseEnvelope"]
        payload = base64.b64decode(envelope["payload"])
        payload_type = envelope["payloadType"]
        sig = base64.b64decode(envelope["signatures"][0]["sig"])
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as exc:
        raise SignatureError(f"unreadable signature bundle: {exc!r}"[:500]) from exc
    if hint is not None and not isinstance(hint, str):
        raise SignatureError("unreadable signature bundle: the key hint is not a string")
    if hint and "sha256:" + hint != key_fingerprint(public_key_pem):
        raise SignatureError("signed with another key (the bundle's key hint differs)")
    if payload_type != PAYLOAD_TYPE:
        raise SignatureError(f"unexpected payload type {payload_type!r}")
    try:
        key.verify(sig, _pae(payload_type, payload), ec.ECDSA(_hash_algorithm(key)))
    except InvalidSignature as exc:
        raise SignatureError("the signature does not verify with this key") from exc
    return _manifest(payload)


def _manifest(payload: bytes) -> dict[str, str]:
    try:
        statement: dict[str, Any] = json.loads(payload)
        if statement.get("predicateType") != PREDICATE_TYPE:
            raise SignatureError(f"unexpected predicate {statement.get('predicateType')!r}")
        serialization_args = statement["predicate"]["serialization"]
        resources = statement["predicate"]["resources"]
        root = statement["subject"][0]["digest"]["sha256"]
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise SignatureError(f"unreadable signed statement: {exc}") from exc
    if serialization_args.get("method") != "files" or serialization_args.get("hash_type") != (
        "sha256"
    ):
        raise SignatureError("only per-file SHA-256 manifests are verified here")
    files: dict[str, str] = {}
    overall = hashlib.sha256()
    for resource in resources:
        if resource.get("algorithm") != "sha256":
            raise SignatureError(f"{resource.get('name')}: not a SHA-256 digest")
        files[str(resource["name"])] = str(resource["digest"])
        overall.update(bytes.fromhex(resource["digest"]))
    if overall.hexdigest() != root:
        raise SignatureError("the manifest is inconsistent with its root digest")
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_directory(
    directory: Path,
    public_key_pem: bytes,
    *,
    signature: Path | None = None,
    expected: dict[str, str] | None = None,
) -> VerifyReport:
    """Check `directory` against its OMS signature (default `modelgate.sig` inside it) and, when
    given, the registry's recorded digests (`expected`, path → SHA-256). Raises SignatureError
    with every difference."""
    sig_path = signature or directory / GATE_SIGNATURE
    if not sig_path.is_file():
        raise SignatureError(f"no signature at {sig_path}")
    signed = signed_manifest(sig_path.read_bytes(), public_key_pem)
    actual = {
        p.relative_to(directory).as_posix(): _sha256(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.resolve() != sig_path.resolve()
    }
    problems = _differences("signature", signed, actual)
    if expected is not None:
        problems += _differences("registry", expected, actual)
    if problems:
        raise SignatureError("; ".join(problems))
    return VerifyReport(str(directory), str(sig_path), key_fingerprint(public_key_pem), actual)


def _differences(source: str, wanted: dict[str, str], actual: dict[str, str]) -> list[str]:
    problems = []
    if extra := sorted(set(actual) - set(wanted)):
        problems.append(f"not in the {source}'s manifest: {', '.join(extra[:10])}")
    if missing := sorted(set(wanted) - set(actual)):
        problems.append(f"missing ({source}): {', '.join(missing[:10])}")
    for path in sorted(set(actual) & set(wanted)):
        if actual[path] != wanted[path]:
            problems.append(f"{path}: SHA-256 {actual[path]}, the {source} says {wanted[path]}")
    return problems


def sign_directory(directory: Path, private_key: Path, *, signature: Path | None = None) -> Path:
    """Sign `directory` with model-signing's key method (`model_signing sign key`, same format),
    the signature written to `model.sig` inside it unless told otherwise."""
    try:
        import model_signing  # noqa: PLC0415 (optional: modelgate[signing])
    except ImportError as exc:
        raise ModelgateError(
            "signing needs model-signing: pip install 'modelgate[signing]'"
        ) from exc
    out = signature or directory / "model.sig"
    hashing = model_signing.hashing.Config()  # type: ignore[no-untyped-call]
    config = model_signing.signing.Config()  # type: ignore[no-untyped-call]
    config.use_elliptic_key_signer(private_key=private_key).set_hashing_config(
        hashing.set_ignored_paths(paths=[out.name], ignore_git_paths=False)
    ).sign(directory, out)
    return out
