-- depends: ingest_0002_early_outcomes
-- The registry's review step: a submission that passed validation waits for an approver.
ALTER TABLE ingest.submissions DROP CONSTRAINT submissions_status_check;
ALTER TABLE ingest.submissions ADD CONSTRAINT submissions_status_check
    CHECK (status IN ('pending', 'validating', 'pending_review', 'registered', 'rejected'));
ALTER TABLE ingest.early_outcomes DROP CONSTRAINT early_outcomes_status_check;
ALTER TABLE ingest.early_outcomes ADD CONSTRAINT early_outcomes_status_check
    CHECK (status IN ('pending_review', 'registered', 'rejected'));
