-- Sign-in sessions and the audit trail of every write.

-- Sessions of tower-sessions, in the layout tower-sessions-sqlx-store expects (its own
-- `migrate()` would create the same; keeping it here means every database, test ones included,
-- is complete after `sqlx migrate`).
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id          text PRIMARY KEY NOT NULL,
    data        bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);

-- Who did what, when, with the values before and after. Append-only: the trigger below refuses
-- UPDATE and DELETE, so not even a bug in the portal can rewrite history.
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor_issuer  text NOT NULL,          -- the identity provider (or "local-demo")
    actor_subject text NOT NULL,          -- the provider's stable subject (Authelia: a UUID)
    actor_name    text NOT NULL,          -- for display only
    actor_role    text,
    action        text NOT NULL,          -- e.g. inventory.refresh, docs.claim
    target        text NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('done', 'refused')),
    before        jsonb,
    after         jsonb
);
CREATE INDEX audit_log_by_time ON audit_log (at DESC);
CREATE INDEX audit_log_by_actor ON audit_log (actor_subject, at DESC);

CREATE FUNCTION refuse_audit_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_log_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_log_change();
