-- The registry's outcome (registered, rejected) for a submission ingest has no row for yet.
-- A submission published straight to Kafka is learnt from model.submitted or model.validated,
-- which travel in other topics than model.registered and model.transitioned and can arrive
-- after them; the row, once made, takes the outcome waiting here, so the status converges to
-- the registry's whatever order the events came in.
CREATE TABLE ingest.early_outcomes (
    submission_id   uuid PRIMARY KEY,
    status          text NOT NULL CHECK (status IN ('registered', 'rejected')),
    detail          text NOT NULL DEFAULT '',
    model_id        bigint,
    version_id      bigint,
    received_at     timestamptz NOT NULL DEFAULT now()
);

-- What the first request under an Idempotency-Key asked for (a digest of its metadata or
-- reference body): a retry that asks for something else is refused, not answered as the first.
ALTER TABLE ingest.submissions ADD COLUMN request_digest text;
