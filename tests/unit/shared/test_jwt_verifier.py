"""The JWT verifier with keys generated here, served over loopback HTTP like a provider's
discovery document and key set: every refusal says why, and an unknown kid fetches the set
again, but not more than once per interval however many forged kids arrive."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from modelgate_shared.auth import Role
from modelgate_shared.auth.jwt_verifier import JwtVerifier
from modelgate_shared.auth.oidc_config import OidcConfig, parse_algorithms, parse_role_map
from modelgate_shared.auth.rejection import TokenRejected

ROLE_MAP = parse_role_map("mg-admins=admin,mg-scientists=data-scientist")


@dataclass
class Provider:
    """Discovery and a JWKS on loopback; `keys` may change between requests (rotation)."""

    keys: dict[str, Any] = field(default_factory=dict)
    jwks_fetches: int = 0
    discoveries: int = 0
    issuer: str = ""
    named_issuer: str | None = None

    def publish(self, kid: str, private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
        alg = "RS256" if isinstance(private, rsa.RSAPrivateKey) else "ES256"
        algorithm = jwt.get_algorithm_by_name(alg)
        jwk = json.loads(algorithm.to_jwk(private.public_key()))
        self.keys[kid] = jwk | {"kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    state = Provider()

    async def discovery(_: web.Request) -> web.Response:
        state.discoveries += 1
        return web.json_response(
            {"issuer": state.named_issuer or state.issuer, "jwks_uri": f"{state.issuer}/certs"}
        )

    async def certs(_: web.Request) -> web.Response:
        state.jwks_fetches += 1
        return web.json_response({"keys": list(state.keys.values())})

    app = web.Application()
    app.router.add_get("/realm/.well-known/openid-configuration", discovery)
    app.router.add_get("/realm/certs", certs)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.issuer = f"http://127.0.0.1:{port}/realm"
    yield state
    await runner.cleanup()


@pytest.fixture
def signer(provider: Provider) -> rsa.RSAPrivateKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider.publish("k1", key)
    return key


def _verifier(provider: Provider, **changes: Any) -> JwtVerifier:
    config = OidcConfig(
        issuer=provider.issuer,
        audience="modelgate",
        role_map=ROLE_MAP,
        subject_claim="preferred_username",
        leeway_s=30,
        jwks_min_refresh_s=changes.pop("jwks_min_refresh_s", 60),
        **changes,
    )
    return JwtVerifier(config)


def _token(provider: Provider, key: Any, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": provider.issuer,
        "aud": ["modelgate", "account"],
        "preferred_username": "ai-scientist",
        "groups": ["mg-scientists", "unrelated"],
        "iat": now,
        "exp": now + 300,
    } | claims
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _refused(verifier: JwtVerifier, token: str) -> TokenRejected:
    with pytest.raises(TokenRejected) as refused:
        await verifier.verify(token)
    return refused.value


async def test_a_valid_token_gives_the_subject_and_the_mapped_roles(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    principal = await _verifier(provider).verify(_token(provider, signer))
    assert principal is not None
    assert principal.subject == "ai-scientist"
    assert principal.roles == frozenset({Role.DATA_SCIENTIST})


async def test_an_ec_key_verifies_es256(provider: Provider) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    provider.publish("ec1", key)
    principal = await _verifier(provider).verify(_token(provider, key, kid="ec1", alg="ES256"))
    assert principal is not None


async def test_what_is_no_jwt_is_left_to_the_next_verifier(provider: Provider) -> None:
    assert await _verifier(provider).verify("mgk_abc") is None
    assert await _verifier(provider).verify("a" * 43) is None


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        # exp/nbf/iat: offsets from when the test runs (collection may be many minutes
        # earlier in the full suite, which made a "future" nbf already past).
        ({"exp": -31, "iat": -400}, "token expired"),
        ({"nbf": 60}, "not yet valid"),
        ({"iat": 60}, "not yet valid"),
        ({"aud": "other"}, "its audience does not include 'modelgate'"),
        ({"aud": None}, "it names no audience"),
        ({"iss": "http://elsewhere/realm"}, "token not issued by"),
        ({"exp": None}, "lacks the 'exp' claim"),
        ({"preferred_username": "a b"}, "not a usable name"),
        ({"typ": "ID"}, "not an access token: its typ is 'ID'"),
        ({"typ": "Refresh"}, "not an access token: its typ is 'Refresh'"),
    ],
    ids=[
        "expired",
        "nbf",
        "iat-future",
        "audience",
        "no-audience",
        "issuer",
        "no-exp",
        "name",
        "id-token",
        "refresh-token",
    ],
)
async def test_a_wrong_claim_is_refused_with_the_reason(
    provider: Provider, signer: rsa.RSAPrivateKey, claims: dict[str, Any], reason: str
) -> None:
    now = int(time.time())
    timed = {"exp", "iat", "nbf"}
    token = _token(
        provider,
        signer,
        **{k: now + v if k in timed and v is not None else v for k, v in claims.items()},
    )
    if any(v is None for v in claims.values()):
        body = jwt.decode(token, options={"verify_signature": False})
        body = {k: v for k, v in body.items() if v is not None}
        token = jwt.encode(body, signer, algorithm="RS256", headers={"kid": "k1"})
    refused = await _refused(_verifier(provider), token)
    assert reason in refused.reason
    assert refused.status == 401


@pytest.mark.parametrize("typ", [None, "Bearer"])
@pytest.mark.parametrize("header_typ", [None, "JWT", "at+jwt"])
async def test_an_access_token_by_its_types_or_none_is_accepted(
    provider: Provider, signer: rsa.RSAPrivateKey, typ: str | None, header_typ: str | None
) -> None:
    claims = {} if typ is None else {"typ": typ}
    headers = {"kid": "k1"} | ({} if header_typ is None else {"typ": header_typ})
    body = jwt.decode(_token(provider, signer, **claims), options={"verify_signature": False})
    token = jwt.encode(body, signer, algorithm="RS256", headers=headers)
    assert await _verifier(provider).verify(token) is not None


async def test_a_token_whose_header_type_is_not_an_access_tokens_is_refused(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    body = jwt.decode(_token(provider, signer), options={"verify_signature": False})
    token = jwt.encode(body, signer, algorithm="RS256", headers={"kid": "k1", "typ": "logout+jwt"})
    refused = await _refused(_verifier(provider), token)
    assert "not an access token: its header type is 'logout+jwt'" in refused.reason


async def test_clock_skew_within_the_leeway_is_tolerated(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    token = _token(provider, signer, exp=int(time.time()) - 10, nbf=int(time.time()) + 10)
    assert await _verifier(provider).verify(token) is not None


async def test_a_changed_payload_breaks_the_signature(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    header, _, signature = _token(provider, signer).split(".")
    body = _token(provider, signer, groups=["mg-admins"]).split(".")[1]
    refused = await _refused(_verifier(provider), f"{header}.{body}.{signature}")
    assert "bad token signature" in refused.reason


async def test_alg_none_and_hs256_with_the_public_key_are_refused(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    claims = _b64(json.dumps({"iss": provider.issuer, "aud": "modelgate"}).encode())
    none = _b64(json.dumps({"alg": "none", "kid": "k1"}).encode())
    refused = await _refused(_verifier(provider), f"{none}.{claims}.")
    assert "algorithm 'none' not accepted" in refused.reason
    public = signer.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = _b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
    mac = hmac.new(public, f"{head}.{claims}".encode(), hashlib.sha256).digest()
    refused = await _refused(_verifier(provider), f"{head}.{claims}.{_b64(mac)}")
    assert "algorithm 'HS256' not accepted" in refused.reason


async def test_an_algorithm_that_does_not_fit_the_key_is_refused(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    token = _token(provider, signer, alg="PS256")  # the JWK says RS256
    refused = await _refused(_verifier(provider), token)
    assert refused.status == 401


async def test_a_key_without_alg_of_another_type_than_the_header_says_is_refused(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    # An EC key published without "alg", named by a token whose header says RS256: the
    # header's algorithm cannot build a key from it (PyJWT's InvalidKeyError, not a PyJWKError).
    key = ec.generate_private_key(ec.SECP256R1())
    provider.publish("ec-no-alg", key)
    del provider.keys["ec-no-alg"]["alg"]
    token = _token(provider, signer, kid="ec-no-alg", alg="RS256")
    refused = await _refused(_verifier(provider), token)
    assert refused.status == 401
    assert "does not fit key ec-no-alg" in refused.reason


async def test_a_rotated_key_is_fetched_and_forged_kids_do_not_flood_the_provider(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    verifier = _verifier(provider, jwks_min_refresh_s=0.5)
    assert await verifier.verify(_token(provider, signer)) is not None
    assert provider.jwks_fetches == 1
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for n in range(20):
        refused = await _refused(verifier, _token(provider, forger, kid=f"forged-{n}"))
        assert "does not publish" in refused.reason
    assert provider.jwks_fetches <= 2  # at most one fresh look within the interval
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider.publish("k2", rotated)
    await asyncio.sleep(0.6)
    principal = await verifier.verify(_token(provider, rotated, kid="k2"))
    assert principal is not None


async def test_groups_that_map_to_no_role_are_403_with_the_groups_named(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    refused = await _refused(_verifier(provider), _token(provider, signer, groups=["guests"]))
    assert refused.status == 403
    assert "'ai-scientist' is signed in, but no Modelgate role" in refused.reason
    assert "(guests)" in refused.reason


async def test_a_discovery_document_naming_another_issuer_is_not_trusted(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    provider.named_issuer = "http://attacker.example/realm"
    refused = await _refused(_verifier(provider), _token(provider, signer))
    assert refused.status == 503
    assert provider.jwks_fetches == 0


def test_settings_refuse_symmetric_algorithms_and_unknown_roles() -> None:
    assert parse_algorithms(["rs256", "es256"]) == ("RS256", "ES256")
    for bad in (["HS256"], ["none"], []):
        with pytest.raises(ValueError, match="asymmetric algorithms only"):
            parse_algorithms(bad)
    with pytest.raises(ValueError, match="is not a role"):
        parse_role_map("admins=root")
    with pytest.raises(ValueError, match="is not GROUP=ROLE"):
        parse_role_map("admins")
    assert parse_role_map(" a=admin , b=viewer ,") == {"a": Role.ADMIN, "b": Role.VIEWER}


async def test_a_provider_down_at_start_is_asked_once_for_many_waiting_requests(
    provider: Provider, signer: rsa.RSAPrivateKey
) -> None:
    # Requests that queued behind a failed first fetch share its answer (503), instead of
    # each asking the provider again, one after the other, under the lock.
    provider.named_issuer = "http://attacker.example/realm"
    verifier = _verifier(provider, jwks_min_refresh_s=60)
    token = _token(provider, signer)
    refusals = await asyncio.gather(*(_refused(verifier, token) for _ in range(10)))
    assert [r.status for r in refusals] == [503] * 10
    assert provider.discoveries == 1
    later = await _refused(verifier, token)  # within the interval: still the provider's fault
    assert later.status == 503
    assert provider.discoveries == 1
