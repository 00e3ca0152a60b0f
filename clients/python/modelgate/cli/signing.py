"""`sign` and `verify`: OpenSSF Model Signing (OMS) signatures, before submitting and after
downloading."""

from __future__ import annotations

from pathlib import Path

import click

from modelgate.cli.context import json_option, state
from modelgate.cli.output import emit_json, err
from modelgate.signing import GATE_SIGNATURE, sign_directory, verify_directory


@click.command(
    epilog="""\b
Examples:
  modelgate sign ./my-model --key signer.key          # writes ./my-model/model.sig
  python -m model_signing verify key ./my-model --signature ./my-model/model.sig \\
      --public_key signer.pub --no-ignore-git-paths  # the same format
"""
)
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--key",
    "key",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="EC private key (PEM), as `model_signing sign key --private_key` takes.",
)
@click.option(
    "--signature",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: DIRECTORY/model.sig, which the gate finds by itself).",
)
@json_option
def sign(directory: Path, key: Path, signature: Path | None) -> None:
    """Sign every file of DIRECTORY with an EC key in OpenSSF Model Signing format (the
    model-signing library's `key` method; needs `pip install 'modelgate[signing]'`)."""
    out = sign_directory(directory, key, signature=signature)
    if state().json:
        emit_json({"directory": str(directory), "signature": str(out)})
    else:
        err.print(f"signed {directory}: {out}")


@click.command(
    epilog="""\b
Examples:
  modelgate download my-model 1.2.0 --dest ./w
  modelgate verify ./w --model my-model --version 1.2.0   # key and digests from the registry
  modelgate verify ./w --key gate.pub                  # offline: no registry at all
"""
)
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--key",
    "key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The gate's public key (PEM; GET /api/v1/signing-key). Default: ask the registry.",
)
@click.option(
    "--signature",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=f"Default: DIRECTORY/{GATE_SIGNATURE}.",
)
@click.option("--model", "model", help="Also compare with the registry's digests of this model…")
@click.option("--version", "version", help="…at this version.")
@json_option
def verify(
    directory: Path,
    key: Path | None,
    signature: Path | None,
    model: str | None,
    version: str | None,
) -> None:
    """Check a downloaded model against the gate's signature: every file signed, nothing
    missing, every SHA-256 equal (and, with --model/--version, equal to the registry's
    record). A difference exits 10 with the reason."""
    if (model is None) != (version is None):
        raise click.UsageError("--model and --version go together")
    current = state()
    pem = key.read_bytes() if key else None
    expected = None
    if pem is None or model is not None:
        client = current.client()
        if pem is None:
            pem = client.signing_key().encode()
        if model is not None and version is not None:
            detail = client.get_model(model, version)
            files = (detail.artifact or {}).get("files", [])
            expected = {f["path"]: f["sha256"] for f in files}
    report = verify_directory(directory, pem, signature=signature, expected=expected)
    if current.json:
        emit_json(
            {
                "directory": report.directory,
                "signature": report.signature,
                "key_fingerprint": report.key_fingerprint,
                "files": report.files,
                "registry_checked": expected is not None,
            }
        )
    else:
        err.print(
            f"{len(report.files)} file(s) in {directory} verified: signed by the gate "
            f"({report.key_fingerprint})" + (", as the registry records" if expected else "")
        )
