-- depends: registry_0003_uploader
-- The human review step: a version that passes validation waits in PENDING_REVIEW until an
-- approver (or an auto-approval rule) decides. `review` records that decision: who, when, why,
-- and the rule when no human was involved. `review_requested_at` orders the queue.
ALTER TABLE registry.versions DROP CONSTRAINT versions_status_check;
ALTER TABLE registry.versions ADD CONSTRAINT versions_status_check
    CHECK (status IN ('PENDING', 'VALIDATING', 'PENDING_REVIEW', 'REGISTERED', 'REJECTED', 'ARCHIVED'));
ALTER TABLE registry.versions ADD COLUMN review jsonb;
ALTER TABLE registry.versions ADD COLUMN review_requested_at timestamptz;
CREATE INDEX versions_review_queue ON registry.versions (review_requested_at, id)
    WHERE status = 'PENDING_REVIEW';
