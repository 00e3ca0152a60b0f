"""OpenID Connect sign-in against the stack's real provider (Keycloak): real tokens by the
password grant are accepted by every service with the role their groups map to, and every
kind of bad token is refused with the reason.

Tokens with wrong claims (expired, not yet valid, another audience, another issuer) are signed
with a key the test holds and has the provider publish beside its own (low priority, so the
provider never signs with it): the services find it in the provider's real key set, so only the
claim under test differs from a token they accept, which the first test shows they do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from modelgate_shared.events import SUBMITTED, encode, new_event
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.signing.proof import OIDC_TOKEN_HEADER
from tests.e2e.test_event_signatures import _staged_file
from tests.support.factories import submitted
from tests.support.gate import Gate, wait_for_status
from tests.support.kafka import TopicTap, produce
from tests.support.namespace import Namespace
from tests.support.oidc import ROLE_USERS, OidcProvider
from tests.support.polling import poll

pytestmark = pytest.mark.e2e

SERVICES = ("registry", "ingest", "validator", "audit")


@pytest.fixture(scope="module")
def test_key(provider: OidcProvider) -> Iterator[tuple[rsa.RSAPrivateKey, str]]:
    """A key this test holds, published by the provider (which never signs with it)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    kid = provider.add_key(f"e2e-{uuid.uuid4().hex[:8]}", priority=1, private_key_pem=pem)
    yield private, kid
    provider.remove_key(kid)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return decoded


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _me(gate: Gate, token: str) -> httpx.Response:
    return httpx.get(f"{gate['registry'].url}/api/v1/me", headers=_bearer(token), timeout=30)


def _metrics(gate: Gate, service: str, token: str) -> httpx.Response:
    return httpx.get(f"{gate[service].url}/metrics", headers=_bearer(token), timeout=30)


def _refused_by_the_registry(gate: Gate, token: str, reason: str) -> None:
    answer = _me(gate, token)
    assert answer.status_code == 401, answer.text
    assert reason in answer.json()["message"], answer.text


def _forge(provider: OidcProvider, key: tuple[rsa.RSAPrivateKey, str], **changes: Any) -> str:
    """An access token like the provider's for ai-scientist, signed with the test's key."""
    now = int(time.time())
    claims = {
        "iss": provider.issuer,
        "aud": "modelgate",
        "sub": str(uuid.uuid4()),
        "preferred_username": "ai-scientist",
        "groups": ["modelgate-scientists"],
        "iat": now,
        "exp": now + 300,
        **changes,
    }
    return jwt.encode(claims, key[0], algorithm="RS256", headers={"kid": key[1]})


def test_every_service_accepts_each_demo_users_real_token_with_its_role(
    gate: Gate, provider: OidcProvider
) -> None:
    for role, user in ROLE_USERS.items():
        token = provider.password_grant(user)["access_token"]
        me = _me(gate, token)
        assert me.status_code == 200, me.text
        assert me.json()["subject"] == user
        assert me.json()["roles"] == [role]
        for service in SERVICES:
            answer = _metrics(gate, service, token)
            assert answer.status_code == 200, f"{service} as {user}: {answer.text[:300]}"


def test_a_token_signed_by_a_key_the_provider_publishes_is_accepted(
    gate: Gate, provider: OidcProvider, test_key: tuple[rsa.RSAPrivateKey, str]
) -> None:
    me = _me(gate, _forge(provider, test_key))
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == ["data-scientist"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        # Times as offsets from when the test runs (not from collection: the suite's earlier
        # tests take longer than any fixed margin, and a "future" nbf would be past by then).
        ({"exp": -120, "iat": -420}, "token expired"),
        ({"nbf": 600}, "not yet valid"),
        ({"aud": "another-api"}, "not issued for this API: its audience does not include"),
        ({"iss": "http://127.0.0.1:1/realms/modelgate"}, "token not issued by"),
    ],
    ids=["expired", "not-yet-valid", "wrong-audience", "wrong-issuer"],
)
def test_a_token_with_a_wrong_claim_is_refused_by_every_service(
    gate: Gate,
    provider: OidcProvider,
    test_key: tuple[rsa.RSAPrivateKey, str],
    changes: dict[str, Any],
    reason: str,
) -> None:
    now = int(time.time())
    timed = {"exp", "iat", "nbf"}
    token = _forge(
        provider, test_key, **{k: now + v if k in timed else v for k, v in changes.items()}
    )
    for service in SERVICES:
        answer = _metrics(gate, service, token)
        assert answer.status_code == 401, f"{service}: {answer.status_code} {answer.text[:300]}"
        assert reason in answer.json()["message"], answer.text


def test_a_real_token_issued_to_another_client_is_refused(
    gate: Gate, provider: OidcProvider
) -> None:
    token = provider.password_grant("ai-admin", client_id="modelgate-other")["access_token"]
    _refused_by_the_registry(gate, token, "token not issued for this API")


def test_a_real_id_token_is_not_taken_as_an_access_token(
    gate: Gate, provider: OidcProvider
) -> None:
    """An ID token names the client as its audience too, and is signed by the same key: only
    its type tells it apart. It proves who signed in to the client, not what the bearer may
    call, and is handed to more places (logout hints, the browser's storage)."""
    id_token = provider.password_grant("ai-admin")["id_token"]
    assert _claims(id_token).get("typ") == "ID"
    _refused_by_the_registry(gate, id_token, "not an access token")


def test_a_real_token_with_a_changed_payload_is_refused(gate: Gate, provider: OidcProvider) -> None:
    header, _, signature = provider.password_grant("ai-viewer")["access_token"].split(".")
    claims = _claims(provider.token("ai-viewer"))
    claims["groups"] = ["modelgate-admins"]
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    _refused_by_the_registry(gate, tampered, "bad token signature")


def test_alg_none_is_refused(gate: Gate, provider: OidcProvider) -> None:
    real = provider.password_grant("ai-viewer")["access_token"]
    kid = jwt.get_unverified_header(real)["kid"]
    claims = _claims(real) | {"groups": ["modelgate-admins"]}
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    _refused_by_the_registry(
        gate, f"{header}.{_b64(json.dumps(claims).encode())}.", "algorithm 'none' not accepted"
    )


def test_hs256_signed_with_the_providers_public_key_is_refused(
    gate: Gate, provider: OidcProvider
) -> None:
    real = provider.password_grant("ai-viewer")["access_token"]
    kid = jwt.get_unverified_header(real)["kid"]
    jwk = next(k for k in provider.jwks()["keys"] if k["kid"] == kid)
    public_pem = jwt.PyJWK(jwk).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = _claims(real) | {"groups": ["modelgate-admins"]}
    signing_input = (
        _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
        + "."
        + _b64(json.dumps(claims).encode())
    )
    # The classic confusion attack: a verifier that let the header pick the algorithm would
    # use the public key (which anyone has) as the HMAC secret.
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    _refused_by_the_registry(gate, f"{signing_input}.{_b64(mac)}", "algorithm 'HS256' not accepted")


def test_a_key_id_the_provider_does_not_publish_is_refused(
    gate: Gate, provider: OidcProvider
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": "modelgate", "preferred_username": "ai-admin"}
    token = jwt.encode(
        claims | {"iat": now, "exp": now + 300, "groups": ["modelgate-admins"]},
        private,
        algorithm="RS256",
        headers={"kid": "never-published"},
    )
    _refused_by_the_registry(gate, token, "'never-published', which")


async def test_after_the_provider_rotates_its_key_new_tokens_are_accepted(
    gate: Gate, provider: OidcProvider
) -> None:
    before = provider.password_grant("ai-developer")["access_token"]
    assert _me(gate, before).status_code == 200  # the services hold the current key set
    kid = provider.add_key(f"rotated-{uuid.uuid4().hex[:8]}", priority=int(time.time()))
    try:
        after = provider.password_grant("ai-developer")["access_token"]
        assert jwt.get_unverified_header(after)["kid"] == kid  # the provider signs with it
        # Unknown to every service until it fetches the key set again (at most once a second
        # in the tests' services): each must come to accept it without a restart.
        async with httpx.AsyncClient(headers=_bearer(after), timeout=30) as client:
            for service in SERVICES:
                url = f"{gate[service].url}/metrics"
                answer = await poll(
                    lambda url=url: client.get(url),  # type: ignore[misc]
                    lambda r: r.status_code == 200,
                    timeout_s=20,
                )
                assert answer.status_code == 200, f"{service}: {answer.text[:300]}"
    finally:
        provider.remove_key(kid)


def test_a_signed_in_user_whose_groups_map_to_no_role_gets_403_with_the_reason(
    gate: Gate, provider: OidcProvider
) -> None:
    token = provider.password_grant("ai-guest")["access_token"]
    for service in SERVICES:
        answer = _metrics(gate, service, token)
        assert answer.status_code == 403, f"{service}: {answer.text}"
        message = answer.json()["message"]
        assert "'ai-guest' is signed in, but no Modelgate role is granted" in message
        assert "modelgate-guests" in message


async def _publish_with_token(
    namespace: Namespace, settings: ServiceSettings, name: str, submitter: str, token: str
) -> None:
    files = await _staged_file(namespace, settings, seed=len(name))
    sub = submitted(name, submitter=submitter, files=files)
    await produce(
        namespace.infra.kafka_as("submitter"),
        namespace.topics.submitted,
        encode(new_event(SUBMITTED, sub, source="urn:notebook", subject=f"{name}/1.0.0")),
        key=name.encode(),
        headers={OIDC_TOKEN_HEADER: token},  # no signature: the token proves the submitter
    )


async def test_a_kafka_submission_proven_by_the_submitters_token_is_registered_as_them(
    gate: Gate, namespace: Namespace, provider: OidcProvider, settings: ServiceSettings
) -> None:
    name = "oidc-proven"
    token = provider.password_grant("ai-scientist")["access_token"]
    await _publish_with_token(namespace, settings, name, "ai-scientist", token)
    version = await wait_for_status(gate, namespace, name, "1.0.0", {"REGISTERED", "REJECTED"})
    assert version["status"] == "REGISTERED", version
    assert version["submitter"] == "ai-scientist"


@pytest.mark.parametrize(
    ("user", "submitter", "reason"),
    [
        ("ai-scientist", "ai-admin", "is not the token's subject"),
        ("ai-viewer", "ai-viewer", "'ai-viewer' may not submit models"),
        ("ai-guest", "ai-guest", "OIDC token refused: 'ai-guest' is signed in, but no"),
    ],
    ids=["someone-else", "viewer", "no-role"],
)
async def test_a_kafka_submission_the_token_does_not_prove_is_dead_lettered(  # noqa: PLR0917
    gate: Gate,
    namespace: Namespace,
    tap: TopicTap,
    provider: OidcProvider,
    settings: ServiceSettings,
    user: str,
    submitter: str,
    reason: str,
) -> None:
    name = f"oidc-refused-{user}"
    token = provider.password_grant(user)["access_token"]
    await _publish_with_token(namespace, settings, name, submitter, token)
    dlq = namespace.topics.dlq("model.submitted")
    dead = await tap.wait_for(
        lambda s: s.topic == dlq and s.key == name.encode(), count=4, timeout_s=60
    )
    for record in dead:
        assert reason in record.headers["dlq-reason"], record.headers["dlq-reason"]
        assert OIDC_TOKEN_HEADER not in record.headers, "a dead letter carries the token"
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(
            f"{gate['registry'].url}/api/v1/models/{name}/versions/1.0.0",
            headers=namespace.auth("admin"),
        )
    assert answer.status_code == 404
