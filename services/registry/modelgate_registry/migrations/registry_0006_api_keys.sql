-- depends: registry_0005_signer
-- API keys for machines (modelgate_shared.auth.api_keys): in a schema of their own because
-- every service reads them (a revocation must count everywhere at once) while only the
-- registry, which serves the admin API, writes them. Only each key's SHA-256 is kept.
CREATE SCHEMA IF NOT EXISTS identity;
CREATE TABLE identity.api_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    owner text NOT NULL,
    roles text[] NOT NULL CHECK (cardinality(roles) > 0),
    sha256 text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_by text,
    revoke_reason text,
    CHECK (expires_at > created_at),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX api_keys_owner ON identity.api_keys (owner, created_at);
