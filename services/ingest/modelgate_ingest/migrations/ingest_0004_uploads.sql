-- depends: ingest_0003_pending_review
-- Presigned multipart uploads: the client sends the bytes straight to S3 with URLs ingest
-- signs; this row remembers the pending submission's files and their S3 upload ids until
-- ingest completes them (and publishes model.submitted) or aborts them (DELETE, or the
-- sweeper once it has been idle for MODELGATE_UPLOAD_ABANDON_AFTER_S).
ALTER TABLE ingest.submissions DROP CONSTRAINT submissions_status_check;
ALTER TABLE ingest.submissions ADD CONSTRAINT submissions_status_check
    CHECK (status IN ('pending', 'validating', 'pending_review', 'registered', 'rejected',
                      'abandoned'));

CREATE TABLE ingest.uploads (
    upload_id        uuid PRIMARY KEY REFERENCES ingest.submissions (submission_id),
    submitter        text NOT NULL,
    metadata         jsonb NOT NULL,
    -- [{path, size, sha256 (declared, or null), key, part_size, part_count, s3_upload_id,
    --   completed}]
    files            jsonb NOT NULL,
    state            text NOT NULL CHECK (state IN ('open', 'completed', 'aborted')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_open_by_activity ON ingest.uploads (last_activity_at) WHERE state = 'open';
