-- The validator's memory of what it already answered, so a redelivered model.submitted
-- (same CloudEvents id) never produces a second model.validated, nor a second benchmark.
CREATE SCHEMA IF NOT EXISTS validator;

CREATE TABLE validator.validations (
    event_id           uuid PRIMARY KEY,   -- the model.submitted CloudEvents id
    submission_id      uuid NOT NULL,
    validated_event_id uuid NOT NULL,      -- deterministic: uuid5 of event_id
    state              text NOT NULL CHECK (state IN ('running', 'ready', 'published')),
    attempts           integer NOT NULL DEFAULT 1,
    result             text,               -- the exact model.validated bytes, once computed
    started_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz,
    published_at       timestamptz
);
