"""Signature: a submission that carries an OpenSSF Model Signing (OMS) signature is verified,
and the signing policy decides whose signatures count and for which models one is required.

The signature file is `model.sig` at the artifact's root (what `model_signing sign` writes),
or the path named by the label `modelgate.signature`. Its envelope is verified with the trusted
signers' keys or CA certificates (model-signing's verifiers, `oms.py`), then the manifest it
signs is compared with the SHA-256 the integrity check computed for every other file: nothing
is downloaded again. A valid signature by a trusted signer records who signed (`signer` on
`model.validated`); anything else fails with the reason.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from modelgate_shared.events import ArtifactFile, CheckStatus, SignerIdentity
from modelgate_shared.events.validated import GATE_SIGNATURE_NAME
from modelgate_validator import oms
from modelgate_validator.checks.base import CheckContext, Outcome
from modelgate_validator.signing_policy import Decision, SigningPolicy, TrustedSigner

SIGNATURE_LABEL = "modelgate.signature"
MAX_SIGNATURE_BYTES = 1024 * 1024


def signature_file(ctx: CheckContext) -> tuple[ArtifactFile | None, str | None]:
    """The submission's signature file, or why the one it names is not there."""
    files = {f.path: f for f in ctx.submission.artifact.files}
    named = ctx.submission.labels.get(SIGNATURE_LABEL)
    if named:
        if named not in files:
            return None, f"label {SIGNATURE_LABEL}={named!r} names no submitted file"
        return files[named], None
    return files.get(oms.SIGNATURE_NAME), None


class SignatureCheck:
    name = "signature"
    needs_storage = True

    def __init__(self, policy: SigningPolicy, *, gate_signs: bool = False) -> None:
        self.policy = policy
        self.gate_signs = gate_signs

    async def run(self, ctx: CheckContext) -> Outcome:
        sub = ctx.submission
        if self.gate_signs and any(f.path == GATE_SIGNATURE_NAME for f in sub.artifact.files):
            return Outcome.failed(
                f"{GATE_SIGNATURE_NAME} is reserved for the gate's own signature; rename the file"
            )
        item, problem = signature_file(ctx)
        if problem:
            return Outcome.failed(problem)
        if not self.policy.configured:
            if item is None:
                return Outcome.skipped("unsigned; no signing policy (MODELGATE_SIGNING_POLICY)")
            return Outcome.skipped(
                f"{item.path} not verified: no signing policy (MODELGATE_SIGNING_POLICY)"
            )
        loaded = self.policy.current()
        if loaded is None:
            return Outcome.failed(f"signing policy unavailable: {self.policy.error}")
        decision = loaded.decide(sub.name, sub.model_card.owner_team)
        if item is None:
            if decision.required:
                rules = ", ".join(f"#{i + 1}" for i in decision.rules)
                return Outcome.failed(
                    "unsigned: the signing policy requires an OMS signature "
                    f"({oms.SIGNATURE_NAME}) for {sub.name} (rules {rules})"
                )
            return Outcome.skipped("unsigned; not required for this model")
        if not decision.trusted:
            return Outcome.failed(
                f"signed ({item.path}), but the signing policy trusts no signer for {sub.name}"
            )
        if any(
            r.status == CheckStatus.FAILED and r.name == "integrity" for r in ctx.results
        ) or any(f.uri not in ctx.files.hashed for f in sub.artifact.files):
            return Outcome.skipped("not verified: the files' digests are unknown (integrity)")
        actual = {
            f.path: ctx.files.hashed[f.uri].sha256 for f in sub.artifact.files if f is not item
        }
        size = ctx.files.hashed[item.uri].size
        if size > MAX_SIGNATURE_BYTES:
            return Outcome.failed(f"{item.path}: {size} bytes, over 1 MiB: not a signature")
        signature = await ctx.files.read_range(item.uri, 0, size)
        return await asyncio.to_thread(self._verify, ctx, item, signature, actual, decision)

    def _verify(
        self,
        ctx: CheckContext,
        item: ArtifactFile,
        signature: bytes,
        actual: dict[str, str],
        decision: Decision,
    ) -> Outcome:
        try:
            kind = oms.bundle_kind(signature)
        except oms.SignatureInvalid as exc:
            return Outcome.failed(f"{item.path}: {exc}")
        candidates = [t for t in decision.trusted if t.method == kind]
        if not candidates:
            trusted = ", ".join(f"{t.name} ({t.method})" for t in decision.trusted)
            return Outcome.failed(
                f"{item.path} is signed with a {kind}; the signing policy trusts for "
                f"{ctx.submission.name} only: {trusted}"
            )
        refusals: list[str] = []
        for trusted_signer in candidates:
            result = self._one(ctx, item, signature, actual, trusted_signer, refusals=refusals)
            if result is not None:
                return result
        return Outcome.failed(
            f"{item.path} was not made by a signer trusted for {ctx.submission.name}: "
            + "; ".join(refusals)
        )

    def _one(
        self,
        ctx: CheckContext,
        item: ArtifactFile,
        signature: bytes,
        actual: dict[str, str],
        trusted: TrustedSigner,
        *,
        refusals: list[str],
    ) -> Outcome | None:
        scratch = ctx.work_dir
        try:
            if trusted.method == "sigstore":
                keyless = trusted.signer
                assert keyless.sigstore_identity
                assert keyless.sigstore_issuer
                with tempfile.NamedTemporaryFile(dir=scratch, suffix=".json") as trust:
                    trust.write(trusted.pem)
                    trust.flush()
                    signed = oms.verify_with_sigstore(
                        signature,
                        identity=keyless.sigstore_identity,
                        issuer=keyless.sigstore_issuer,
                        trust_config=Path(trust.name),
                        scratch=scratch,
                    )
                signer = SignerIdentity(
                    method="sigstore",
                    identity=keyless.sigstore_identity[:256],
                    trusted_as=trusted.name,
                    signature=item.path,
                )
            elif trusted.method == "key":
                signed = oms.verify_with_key(signature, trusted.pem, scratch)
                signer = SignerIdentity(
                    method="key",
                    identity=oms.key_fingerprint(trusted.pem),
                    trusted_as=trusted.name,
                    signature=item.path,
                )
            else:
                signed, cert = oms.verify_with_certificates(signature, [trusted.pem], scratch)
                if not trusted.signer.allows(cert.subject, cert.alternative_names):
                    names = ", ".join(cert.alternative_names) or "none"
                    refusals.append(
                        f"{trusted.name}: certificate {cert.subject!r} (alternative names: "
                        f"{names}) is not an identity it may vouch for"
                    )
                    return None
                signer = SignerIdentity(
                    method="certificate",
                    identity=cert.subject[:256],
                    trusted_as=trusted.name,
                    signature=item.path,
                    certificate_fingerprint=cert.fingerprint,
                    alternative_names=[n[:256] for n in cert.alternative_names[:32]],
                )
        except oms.SignatureInvalid as exc:
            refusals.append(f"{trusted.name}: {exc}"[:1000])
            return None
        problems = oms.coverage_problems(signed, actual)
        if problems:
            return Outcome.failed(
                f"{item.path}, signed by {trusted.name} ({signer.identity}), does not match the "
                f"submitted files: " + "; ".join(problems)
            )
        ctx.signer = signer
        return Outcome.passed(
            f"{len(actual)} file{'s' if len(actual) != 1 else ''} signed by {trusted.name} "
            f"({signer.method} {signer.identity}), every SHA-256 matching"
        )
