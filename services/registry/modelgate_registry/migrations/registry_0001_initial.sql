-- The registry's state (design section 3): models, versions, their artifacts, aliases,
-- deployments and transition history; the transactional outbox; processed event ids.
CREATE SCHEMA IF NOT EXISTS registry;

CREATE TABLE registry.models (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL UNIQUE,
    description       text NOT NULL DEFAULT '',
    owner             text,
    license           text,
    state             text NOT NULL DEFAULT 'LIVE' CHECK (state IN ('LIVE', 'ARCHIVED')),
    labels            jsonb NOT NULL DEFAULT '{}',
    custom_properties jsonb NOT NULL DEFAULT '{}',   -- Kubeflow customProperties, as sent
    external_id       text UNIQUE,
    sequence          bigint NOT NULL DEFAULT 0,      -- per-model event sequence (and row lock)
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX models_name_prefix ON registry.models (name text_pattern_ops);
CREATE INDEX models_labels ON registry.models USING gin (labels);

CREATE TABLE registry.versions (
    id                bigserial PRIMARY KEY,
    model_id          bigint NOT NULL REFERENCES registry.models (id),
    version           text NOT NULL,
    status            text NOT NULL
                      CHECK (status IN ('PENDING', 'VALIDATING', 'REGISTERED', 'REJECTED', 'ARCHIVED')),
    status_before_archive text,
    status_reason     text NOT NULL DEFAULT '',
    stage             text CHECK (stage IN ('development', 'staging', 'canary', 'production', 'deprecated')),
    submission_id     uuid NOT NULL UNIQUE,
    submitter         text NOT NULL,
    author            text,
    description       text NOT NULL DEFAULT '',
    labels            jsonb NOT NULL DEFAULT '{}',
    model_card        jsonb NOT NULL DEFAULT '{}',
    lineage           jsonb NOT NULL DEFAULT '{}',    -- source, training data, code commit
    artifact          jsonb,                          -- the contract's Artifact (uri, format, files)
    validation        jsonb,                          -- verdict and every check's result
    benchmark         jsonb,
    hardware_profiles text[] NOT NULL DEFAULT '{}',   -- certified profiles
    requested_profile text,
    custom_properties jsonb NOT NULL DEFAULT '{}',
    external_id       text UNIQUE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (model_id, version)
);
CREATE INDEX versions_status ON registry.versions (status, created_at);
CREATE INDEX versions_stage ON registry.versions (stage) WHERE stage IS NOT NULL;
CREATE INDEX versions_profiles ON registry.versions USING gin (hardware_profiles);
CREATE INDEX versions_labels ON registry.versions USING gin (labels);

-- Kubeflow ModelArtifact (and other artifact types the Kubeflow API may create).
CREATE TABLE registry.artifacts (
    id                   bigserial PRIMARY KEY,
    version_id           bigint REFERENCES registry.versions (id),
    artifact_type        text NOT NULL DEFAULT 'model-artifact',
    name                 text,
    uri                  text,
    state                text NOT NULL DEFAULT 'UNKNOWN',
    description          text,
    external_id          text UNIQUE,
    properties           jsonb NOT NULL DEFAULT '{}',  -- modelFormatName, storageKey, ...
    custom_properties    jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX artifacts_version ON registry.artifacts (version_id);

CREATE TABLE registry.aliases (
    model_id    bigint NOT NULL REFERENCES registry.models (id),
    alias       text NOT NULL,
    version_id  bigint NOT NULL REFERENCES registry.versions (id),
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, alias)
);

CREATE TABLE registry.deployments (
    id           bigserial PRIMARY KEY,
    model_id     bigint NOT NULL REFERENCES registry.models (id),
    version_id   bigint NOT NULL REFERENCES registry.versions (id),
    environment  text NOT NULL,
    actor        text NOT NULL,
    note         text NOT NULL DEFAULT '',
    deployed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployments_where ON registry.deployments (environment, model_id, deployed_at DESC);

CREATE TABLE registry.transitions (
    id          bigserial PRIMARY KEY,
    version_id  bigint NOT NULL REFERENCES registry.versions (id),
    kind        text NOT NULL,
    from_value  text,
    to_value    text NOT NULL,
    actor       text NOT NULL,
    approver    text,
    reason      text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transitions_version ON registry.transitions (version_id, id);

-- Submissions refused without a version row (a duplicate name and version), so the refusal
-- is announced once however often their events are redelivered.
CREATE TABLE registry.refused_submissions (
    submission_id uuid PRIMARY KEY,
    reason        text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox: rows are written in the transaction that changes the state; the
-- relay publishes them to Kafka and marks them. NOTIFY wakes the relay at once.
CREATE TABLE registry.outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    topic        text NOT NULL,
    key          bytea,
    payload      bytea NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON registry.outbox (id) WHERE published_at IS NULL;

CREATE FUNCTION registry.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('registry_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON registry.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION registry.outbox_notify();

-- Idempotent consumers: an event id is recorded in the same transaction as its effects.
CREATE TABLE registry.processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
