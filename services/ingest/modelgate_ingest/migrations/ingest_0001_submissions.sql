-- Ingest's view of each submission, fed by the events it publishes and consumes, so
-- GET /api/v1/submissions/{id} can say where a submission is without asking other services.
CREATE SCHEMA IF NOT EXISTS ingest;

CREATE TABLE ingest.submissions (
    submission_id   uuid PRIMARY KEY,
    name            text NOT NULL,
    version         text NOT NULL,
    submitter       text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'validating', 'registered', 'rejected')),
    verdict         text,
    checks          jsonb NOT NULL DEFAULT '[]',
    detail          text NOT NULL DEFAULT '',
    artifact_uri    text,
    event_id        uuid,
    model_id        bigint,
    version_id      bigint,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (submitter, idempotency_key)
);
CREATE INDEX submissions_name_version ON ingest.submissions (name, version);
