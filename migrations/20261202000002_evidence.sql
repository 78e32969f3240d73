-- Evidence for the categories people used to type in: API tokens for machines, backup and
-- restore heartbeats, the monitoring stack's own checks, and the infrastructure repository.

-- A token for a machine (a backup script, Prometheus). Only the SHA-256 of the secret is kept;
-- the secret is shown once, at creation. Revoked tokens stay for the audit trail.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    prefix       text NOT NULL,                 -- the secret's first characters, to recognise it
    secret_hash  bytea NOT NULL UNIQUE,
    scopes       text[] NOT NULL,               -- heartbeat, read
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   text
);

-- One run of a backup job as its script reported it. Appended, never changed.
CREATE TABLE backup_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('backup', 'restore_test', 'snapshot')),
    ok          boolean NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL CHECK (finished_at >= started_at),
    bytes       bigint CHECK (bytes >= 0),
    detail      text,
    reported_by text NOT NULL,                  -- the token's name
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX backup_runs_by_job ON backup_runs (job, finished_at DESC);

-- The monitoring stack's checks at the latest refresh: one row per check, replaced as a set.
CREATE TABLE monitoring_checks (
    check_key     text PRIMARY KEY,             -- e.g. prometheus/target/node/master:9100
    source        text NOT NULL,                -- prometheus | alertmanager | loki
    ok            boolean NOT NULL,
    title         text NOT NULL,
    fact          text NOT NULL,
    checked_at    timestamptz NOT NULL,
    failing_since timestamptz                   -- kept across refreshes while it fails
);

-- What each monitoring source said beyond checks (firing alerts), and since when it fails.
CREATE TABLE monitoring_sources (
    source        text PRIMARY KEY,
    reachable     boolean NOT NULL,
    error         text,
    checked_at    timestamptz NOT NULL,
    failing_since timestamptz,
    alerts        jsonb NOT NULL DEFAULT '[]'
);

-- The infrastructure repository at the latest refresh.
CREATE TABLE change_control (
    id         integer PRIMARY KEY CHECK (id = 1),
    checked_at timestamptz NOT NULL,
    facts      jsonb NOT NULL                   -- app::model::evidence::RepoFacts
);

-- The measured score of each formerly assessed category, as the worker last computed it from
-- the evidence above; a category without a configured source has no row (it stays assessed).
CREATE TABLE category_evidence (
    category           text PRIMARY KEY,        -- Monitoring, Backup/DR, Change Control
    score              integer NOT NULL,        -- hundredths of a point, 0 to 10000
    formula            text NOT NULL,
    lines              jsonb NOT NULL,          -- the evidence, one line each
    restore_unverified boolean NOT NULL DEFAULT false, -- Backup/DR: a covered service lacks a fresh restore test
    computed_at        timestamptz NOT NULL
);
