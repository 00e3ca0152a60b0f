"""Keys, a private CA and signatures for the OMS signing tests, made with `cryptography` and
signed with model-signing's public API (what a submitter runs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import model_signing
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path

    @property
    def public_pem(self) -> bytes:
        return self.public.read_bytes()


def key_pair(directory: Path, name: str = "signer") -> KeyPair:
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    private = directory / f"{name}.key"
    public = directory / f"{name}.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return KeyPair(private, public)


@dataclass(frozen=True)
class Certificate:
    key: Path
    cert: Path
    ca_cert: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
        ]
    )


def private_ca(directory: Path, name: str = "ca") -> tuple[ec.EllipticCurvePrivateKey, Path]:
    """A self-signed CA certificate (PEM at the returned path) and its key."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} root"))
        .issuer_name(_name(f"{name} root"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name}.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, path


def leaf_certificate(
    directory: Path,
    ca: tuple[ec.EllipticCurvePrivateKey, Path],
    common_name: str,
    email: str | None = None,
) -> Certificate:
    """A code-signing certificate for `common_name`, issued by `ca`."""
    ca_key, ca_path = ca
    ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    stem = common_name.replace(" ", "-")
    key_path = directory / f"{stem}.key"
    cert_path = directory / f"{stem}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Certificate(key_path, cert_path, ca_path)


def _hashing(ignore: str) -> model_signing.hashing.Config:
    config = model_signing.hashing.Config()  # type: ignore[no-untyped-call]
    return config.set_ignored_paths(paths=[ignore])


def _signing() -> model_signing.signing.Config:
    return model_signing.signing.Config()  # type: ignore[no-untyped-call]


def sign_with_key(model_dir: Path, private_key: Path, signature: Path | None = None) -> Path:
    """`model_signing sign key` through the library's public API."""
    out = signature or model_dir / "model.sig"
    _signing().use_elliptic_key_signer(private_key=private_key).set_hashing_config(
        _hashing(out.name)
    ).sign(model_dir, out)
    return out


def sign_with_certificate(
    model_dir: Path, cert: Certificate, signature: Path | None = None
) -> Path:
    out = signature or model_dir / "model.sig"
    _signing().use_certificate_signer(
        private_key=cert.key, signing_certificate=cert.cert, certificate_chain=[cert.ca_cert]
    ).set_hashing_config(_hashing(out.name)).sign(model_dir, out)
    return out
