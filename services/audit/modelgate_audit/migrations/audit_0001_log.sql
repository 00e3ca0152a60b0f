-- The audit log: append-only and hash-chained (design section 8; issue 5).
-- Each row keeps the exact canonical bytes it hashed: hash = sha256(prev_hash || canonical).
-- seq is assigned by the appender under an advisory lock, gapless, so a deleted row shows.
CREATE SCHEMA IF NOT EXISTS audit;

CREATE TABLE audit.log (
    seq          bigint PRIMARY KEY CHECK (seq > 0),
    event_id     uuid NOT NULL UNIQUE,
    event_type   text NOT NULL,
    topic        text NOT NULL,
    subject      text,
    model        text,
    version      text,
    action       text NOT NULL,
    actor        text,
    from_stage   text,
    to_stage     text,
    approver     text,
    reason       text,
    event_time   timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    canonical    bytea NOT NULL,
    prev_hash    bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash         bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX log_model ON audit.log (model, version, seq);
CREATE INDEX log_actor ON audit.log (actor, seq);
CREATE INDEX log_type ON audit.log (event_type, seq);
CREATE INDEX log_time ON audit.log (event_time);

CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit.log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER log_refuse_update_delete BEFORE UPDATE OR DELETE ON audit.log
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER log_refuse_truncate BEFORE TRUNCATE ON audit.log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
-- ALWAYS: the triggers fire under session_replication_role = replica too.
ALTER TABLE audit.log ENABLE ALWAYS TRIGGER log_refuse_update_delete;
ALTER TABLE audit.log ENABLE ALWAYS TRIGGER log_refuse_truncate;
