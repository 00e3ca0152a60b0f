"""The signing policy: which signers a model trusts, where a signature is required, and a bad
file never half-applied (fail closed)."""

from __future__ import annotations

import os
from pathlib import Path

from modelgate_validator.signing_policy import SigningPolicy
from tests.support.oms_keys import key_pair, private_ca


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_rules_add_signers_and_any_may_require(tmp_path: Path) -> None:
    keys = key_pair(tmp_path, "team")
    _, ca = private_ca(tmp_path)
    policy_file = tmp_path / "signing.yaml"
    _write(
        policy_file,
        f"""
signers:
  - name: team-key
    key_file: {keys.public.name}
  - name: pki
    ca_file: {ca}
    identities: ["O=Example,CN=release-*"]
rules:
  - model_name: "prod-*"
    signers: [team-key]
    required: true
  - owner_team: [ml-platform]
    signers: [pki]
""",
    )
    policy = SigningPolicy(policy_file)
    loaded = policy.current()
    assert loaded is not None, policy.error
    prod = loaded.decide("prod-llm", "ml-platform")
    assert [t.name for t in prod.trusted] == ["team-key", "pki"]
    assert prod.required
    assert prod.trusted[0].pem == keys.public_pem
    other = loaded.decide("scratch", "research")
    assert other.trusted == ()
    assert not other.required
    pki = prod.trusted[1].signer
    assert pki.allows("O=Example,CN=release-bot", ())
    assert not pki.allows("O=Example,CN=intern", ("release-bot@x",))


def test_a_broken_policy_keeps_the_last_good_one_and_none_means_fail_closed(
    tmp_path: Path,
) -> None:
    policy_file = tmp_path / "signing.yaml"
    _write(policy_file, "rules: [{model_name: 'a-*', signers: [nobody]}]\n")
    policy = SigningPolicy(policy_file)
    assert policy.current() is None
    assert policy.error is not None
    assert "unknown signers: nobody" in policy.error
    _write(policy_file, "rules: [{model_name: 'a-*', required: true}]\n")
    good = policy.current()
    assert good is not None
    assert good.decide("a-1", None).required
    _write(policy_file, "signers: [{name: k, key: 'not a pem'}]\n")
    assert policy.current() is good
    assert policy.error is not None
    assert "unusable PEM" in policy.error
    assert SigningPolicy(tmp_path / "absent.yaml").current() is None


def test_a_keyless_signer_names_its_identity_issuer_and_trust_root(tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text('{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}')
    policy_file = tmp_path / "signing.yaml"
    _write(
        policy_file,
        f"""
signers:
  - name: ci-keyless
    sigstore_identity: https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main
    sigstore_issuer: https://token.actions.githubusercontent.com
    trust_config_file: {trust.name}
rules:
  - model_name: "*"
    signers: [ci-keyless]
""",
    )
    policy = SigningPolicy(policy_file)
    loaded = policy.current()
    assert loaded is not None, policy.error
    (signer,) = loaded.decide("any-model", None).trusted
    assert signer.method == "sigstore"
    _write(
        policy_file,
        """
signers:
  - name: half-keyless
    sigstore_identity: someone@example.com
rules: []
""",
    )
    policy.current()
    assert policy.error is not None
    assert "sigstore_issuer" in policy.error
