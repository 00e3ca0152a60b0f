"""OpenSSF Model Signing (OMS) signatures, checked and made from digests the validator holds.

The one place that reaches into `model_signing`'s internals (`model_signing._signing`), and why:
the library's public API (`model_signing.verifying.Config().verify(model_dir, sig)`) verifies the
envelope *and* re-hashes a model directory on local disk. The validator already streamed every
file from S3 and holds its SHA-256 (integrity check); downloading a model of tens of gigabytes
again only to hash it a second time would double the cost of every signed submission. So the
envelope is verified with the library's own verifiers (DSSE over the in-toto statement, the key
hint, the certificate chain), and the manifest they return is compared with the validator's
digests here. Likewise the gate's signature is built from the pinned digests with the library's
own signer, never by hand, so its format is exactly what `model_signing verify` reads.

Compatibility with the public API and the upstream CLI is what `tests/unit/validator/test_oms.py`
proves (signatures made by `model_signing.signing.Config` verify here; signatures made here
verify with `python -m model_signing verify key`). Pinned to model-signing 1.1.1 in uv.lock.
"""

from __future__ import annotations

import functools
import hashlib
import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from model_signing import manifest
from model_signing._hashing.hashing import Digest
from model_signing._signing import (
    sign_certificate,
    sign_ec_key,
    sign_sigstore,
    sign_sigstore_pb,
    signing,
)

from modelgate_shared.events.validated import GATE_SIGNATURE_NAME

SIGNATURE_NAME = "model.sig"
"""Where the model-signing CLI writes a signature by default: the conventional name."""


class SignatureInvalid(ValueError):
    """The signature is not one these keys or certificates made, or cannot be read."""


@dataclass(frozen=True)
class SignedManifest:
    """What a valid signature vouches for: each path's digest, and how they were computed."""

    files: dict[str, str]
    """Path (POSIX, relative to the model root) → lowercase hex digest."""
    method: str
    hash_type: str
    ignore_paths: tuple[str, ...]


@dataclass(frozen=True)
class CertificateSigner:
    """The leaf certificate of a certificate-based signature, after its chain verified."""

    subject: str
    alternative_names: tuple[str, ...]
    fingerprint: str


def key_fingerprint(public_key_pem: bytes) -> str:
    """`sha256:<hex>` of the key's PEM SubjectPublicKeyInfo: the value model-signing writes as
    the bundle's key `hint`, so a signature names its key the same way here and upstream."""
    key = serialization.load_pem_public_key(public_key_pem)
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(pem).hexdigest()


def public_key_pem_of(private_key_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _bundle(signature: bytes, scratch: Path) -> sign_sigstore_pb.Signature:
    # The library reads a bundle from a path only (it also upgrades older bundles on the way).
    with tempfile.NamedTemporaryFile(dir=scratch, suffix=".sig") as handle:
        handle.write(signature)
        handle.flush()
        try:
            return sign_sigstore_pb.Signature.read(Path(handle.name))
        except Exception as exc:
            # Whatever the library's parser raises on a crafted file (ValueError, KeyError,
            # RecursionError on deep nesting, ...) means one thing: not a bundle.
            raise SignatureInvalid(f"not an OMS signature bundle: {exc!r}"[:500]) from exc


def bundle_kind(signature: bytes) -> str:
    """`key`, `certificate` or `sigstore` (a transparency-log entry): which trust to try."""
    try:
        material = json.loads(signature)["verificationMaterial"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise SignatureInvalid(f"not an OMS signature bundle: {exc}") from exc
    if not isinstance(material, dict):
        raise SignatureInvalid("not an OMS signature bundle: no verification material")
    if material.get("tlogEntries"):
        return "sigstore"
    if "x509CertificateChain" in material or "certificate" in material:
        return "certificate"
    return "key"


def _manifest_of(verified: manifest.Manifest) -> SignedManifest:
    args = verified.serialization_type
    files: dict[str, str] = {}
    for item in verified.resource_descriptors():
        if item.digest.algorithm != "sha256":
            raise SignatureInvalid(
                f"{item.identifier}: digest algorithm {item.digest.algorithm}; the gate "
                "compares SHA-256 only (sign with the default hash, sha256)"
            )
        files[item.identifier] = item.digest.digest_hex
    return SignedManifest(
        files=files,
        method=str(args.get("method")),
        hash_type=str(args.get("hash_type")),
        ignore_paths=tuple(str(p) for p in args.get("ignore_paths", ())),
    )


def _verified(
    verifier: signing.Verifier, bundle: sign_sigstore_pb.Signature | sign_sigstore.Signature
) -> manifest.Manifest:
    try:
        return verifier.verify(bundle)
    except Exception as exc:
        # The library raises ValueError, cryptography's InvalidSignature, OpenSSL's
        # X509StoreContextError, KeyError on a malformed payload: all mean "not valid".
        reason = str(exc) or type(exc).__name__
        raise SignatureInvalid(reason) from exc


def verify_with_key(signature: bytes, public_key_pem: bytes, scratch: Path) -> SignedManifest:
    bundle = _bundle(signature, scratch)
    with tempfile.NamedTemporaryFile(dir=scratch, suffix=".pub") as key:
        key.write(public_key_pem)
        key.flush()
        try:
            verifier = sign_ec_key.Verifier(Path(key.name))
        except Exception as exc:
            raise SignatureInvalid(f"unusable public key: {exc}") from exc
    return _manifest_of(_verified(verifier, bundle))


def verify_with_sigstore(
    signature: bytes, *, identity: str, issuer: str, trust_config: Path, scratch: Path
) -> SignedManifest:
    """A keyless bundle: its Fulcio certificate names `identity`, issued through `issuer`, and
    its transparency-log entry verifies against the trust root in `trust_config` (a Sigstore
    ClientTrustConfig JSON). Offline: the gate never fetches a trust root itself, so it needs
    the file an operator provides (the public-good instance's, or a private deployment's)."""
    with tempfile.NamedTemporaryFile(dir=scratch, suffix=".sig") as handle:
        handle.write(signature)
        handle.flush()
        try:
            bundle = sign_sigstore.Signature.read(Path(handle.name))
        except Exception as exc:
            raise SignatureInvalid(f"not a Sigstore bundle: {exc}") from exc
    try:
        verifier = sign_sigstore.Verifier(
            identity=identity, oidc_issuer=issuer, trust_config=trust_config
        )
    except Exception as exc:
        raise SignatureInvalid(f"unusable trust config {trust_config}: {exc}") from exc
    return _manifest_of(_verified(verifier, bundle))


def verify_with_certificates(
    signature: bytes, ca_pems: Iterable[bytes], scratch: Path
) -> tuple[SignedManifest, CertificateSigner]:
    """The bundle's certificate chain must lead to one of `ca_pems`; the leaf signed it."""
    bundle = _bundle(signature, scratch)
    with tempfile.NamedTemporaryFile(dir=scratch, suffix=".pem") as cas:
        cas.write(b"\n".join(ca_pems))
        cas.flush()
        try:
            verifier = sign_certificate.Verifier([Path(cas.name)])
        except Exception as exc:
            raise SignatureInvalid(f"unusable CA certificates: {exc}") from exc
    verified = _verified(verifier, bundle)
    chain = bundle.bundle.verification_material.x509_certificate_chain
    if chain is None or not chain.certificates:
        raise SignatureInvalid("a certificate signature without its certificate chain")
    leaf = x509.load_der_x509_certificate(chain.certificates[0].raw_bytes)
    return _manifest_of(verified), _certificate_signer(leaf)


def _certificate_signer(leaf: x509.Certificate) -> CertificateSigner:
    names: list[str] = []
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        names += [str(v) for v in san.get_values_for_type(x509.RFC822Name)]
        names += [str(v) for v in san.get_values_for_type(x509.UniformResourceIdentifier)]
        names += [str(v) for v in san.get_values_for_type(x509.DNSName)]
    fingerprint = "sha256:" + leaf.fingerprint(hashes.SHA256()).hex()
    return CertificateSigner(leaf.subject.rfc4514_string(), tuple(names), fingerprint)


def coverage_problems(signed: SignedManifest, actual: dict[str, str]) -> list[str]:
    """Why `signed` does not vouch for exactly these files (empty: it does).

    `actual` maps each submitted path, the signature file excluded, to the SHA-256 the
    validator computed. Every file must be covered, nothing else may be, and each digest must
    match: a signature that leaves a file out (even one the signer chose to ignore), names a
    file that is not there, or was made for other bytes fails.
    """
    if signed.method != "files" or signed.hash_type != "sha256":
        return [
            f"signed with serialization {signed.method}/{signed.hash_type}; the gate accepts "
            "per-file SHA-256 (model-signing's default, `files`/`sha256`)"
        ]
    problems: list[str] = []
    unsigned = sorted(set(actual) - set(signed.files))
    missing = sorted(set(signed.files) - set(actual))
    changed = sorted(p for p in set(actual) & set(signed.files) if actual[p] != signed.files[p])
    if unsigned:
        problems.append(f"not covered by the signature: {', '.join(unsigned[:10])}")
    if missing:
        problems.append(f"signed but not submitted: {', '.join(missing[:10])}")
    for path in changed[:10]:
        problems.append(
            f"{path}: signed SHA-256 {signed.files[path]}, submitted bytes {actual[path]}"
        )
    return problems


def sign_digests(
    model_name: str,
    files: dict[str, str],
    private_key_pem: bytes,
    *,
    signature_name: str = GATE_SIGNATURE_NAME,
) -> bytes:
    """An OMS signature (EC key method) over `files` (path → SHA-256 hex), as model-signing's
    `sign key` would write it for a directory holding exactly those files."""
    serialization_type = manifest.SerializationType.from_args(
        {
            "method": "files",
            "hash_type": "sha256",
            "allow_symlinks": False,
            "ignore_paths": [signature_name],
        }
    )
    items = [
        manifest.FileManifestItem(
            path=PurePosixPath(path), digest=Digest("sha256", bytes.fromhex(digest))
        )
        for path, digest in sorted(files.items())
    ]
    payload = signing.Payload(manifest.Manifest(model_name, items, serialization_type))
    signature = _ec_signer(private_key_pem).sign(payload)
    assert isinstance(signature, sign_sigstore_pb.Signature)
    # What `Signature.write` puts in the file, without the file.
    text: str = signature.bundle.to_json()
    return text.encode("utf-8")


@functools.lru_cache(maxsize=4)
def _ec_signer(private_key_pem: bytes) -> sign_ec_key.Signer:
    """The library's signer of one key, made once: it loads the key from a path only, and
    writing, parsing and removing the key file for every submission signed cost more than the
    signature itself (0.69 against 0.19 ms of CPU per signature). Keyed by the key alone: a
    per-submission folder in the key made every call a miss. The file lives only while the
    signer loads it, in a private (0700) temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key.pem"
        key.write_bytes(private_key_pem)
        key.chmod(0o600)
        return sign_ec_key.Signer(key)
