"""What the JWT verifier trusts: one issuer, one audience, a few algorithms, a role mapping."""

from __future__ import annotations

from dataclasses import dataclass

from modelgate_shared.auth.roles import Role

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""What MODELGATE_OIDC_ALGORITHMS may name. Never `none`, never HS*: with a shared secret the
verifier's key could sign too, and an HS token "signed" with the provider's public key is the
classic forgery (a verifier that let the token's header choose would accept it)."""
DEFAULT_ALGORITHMS = ("RS256", "ES256", "PS256")


def parse_role_map(text: str) -> dict[str, Role]:
    """`group=role,group=role` (MODELGATE_OIDC_ROLE_MAP) as a table; a role name that is not one
    of Modelgate's is an error at startup, not a silently powerless group."""
    table: dict[str, Role] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        group, sep, role = (s.strip() for s in item.partition("="))
        if not sep or not group or not role:
            raise ValueError(f"MODELGATE_OIDC_ROLE_MAP: {item!r} is not GROUP=ROLE")
        try:
            table[group] = Role(role)
        except ValueError:
            names = ", ".join(r.value for r in Role)
            raise ValueError(
                f"MODELGATE_OIDC_ROLE_MAP: {role!r} (for {group!r}) is not a role; one of {names}"
            ) from None
    return table


def parse_algorithms(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(n.strip() for n in names if n.strip())
    allowed = {a.upper(): a for a in ASYMMETRIC_ALGORITHMS}
    refused = [n for n in chosen if n.upper() not in allowed]
    if refused or not chosen:
        raise ValueError(
            f"MODELGATE_OIDC_ALGORITHMS: {', '.join(refused) or '(empty)'} refused; "
            f"asymmetric algorithms only: {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}"
        )
    return tuple(allowed[n.upper()] for n in chosen)


@dataclass(frozen=True, kw_only=True)
class OidcConfig:
    issuer: str
    """Exactly the `iss` of the tokens; discovery is `<issuer>/.well-known/openid-configuration`."""
    audience: str
    """What `aud` must contain: the API's identifier at the provider."""
    role_map: dict[str, Role]
    roles_claim: str = "groups"
    subject_claim: str = "sub"
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    leeway_s: float = 30.0
    """Clock skew tolerated on `exp`, `nbf` and `iat` between the provider and this host."""
    jwks_min_refresh_s: float = 10.0
    """An unknown `kid` fetches the key set again at most this often (a flood of forged kids
    must not become a flood of requests to the provider)."""
    jwks_max_age_s: float = 600.0
    """The key set is fetched again after this long even when every kid is known, so a key the
    provider withdrew stops being accepted."""
    http_timeout_s: float = 5.0
    discovery_url: str | None = None
    """Where this service reads the discovery document, when not at the issuer's own URL (a
    container that reaches the provider by an internal name, while `iss` names the URL people
    use); the document must still name `issuer`."""
