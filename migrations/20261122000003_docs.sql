-- Documentation coverage: the scanned docs (derived from the docs folder, refreshed by the
-- worker), and what editors write (claims, attestations), which is appended, never overwritten.

-- The current scan of each doc file; removed_at is set when the file disappears.
CREATE TABLE docs (
    path          text PRIMARY KEY,        -- relative to the docs folder
    title         text,
    services      text[] NOT NULL,         -- names from front matter, else the file name
    engine        text,
    owner         text,
    last_verified date,
    checks        jsonb NOT NULL,          -- the file's own checks (freshness is judged on read)
    html          text NOT NULL,           -- rendered and sanitized
    content_hash  text NOT NULL,
    first_seen    timestamptz NOT NULL,
    scanned_at    timestamptz NOT NULL,
    removed_at    timestamptz
);

-- Files the last scan skipped, with the reason (too large, not UTF-8, broken front matter).
CREATE TABLE doc_problems (
    path    text PRIMARY KEY,
    reason  text NOT NULL,
    seen_at timestamptz NOT NULL
);

-- Each change of a doc's content or checks, for its history.
CREATE TABLE doc_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path         text NOT NULL,
    at           timestamptz NOT NULL,
    content_hash text NOT NULL,
    checks       jsonb NOT NULL,
    event        text NOT NULL            -- added, changed, removed
);
CREATE INDEX doc_history_by_path ON doc_history (path, at DESC);

-- "Verification commands run today": who, when, a note. Counts towards freshness.
CREATE TABLE doc_attestations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path          text NOT NULL,
    actor_subject text NOT NULL,
    actor_name    text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    note          text NOT NULL
);
CREATE INDEX doc_attestations_by_path ON doc_attestations (path, at DESC);

-- "I am writing this": a claim on an undocumented service, until released.
CREATE TABLE doc_claims (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    engine        text NOT NULL,
    service_key   text NOT NULL,
    actor_subject text NOT NULL,
    actor_name    text NOT NULL,
    due           date,
    note          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    released_at   timestamptz,
    released_by   text
);
-- One open claim per service.
CREATE UNIQUE INDEX doc_claims_one_open ON doc_claims (engine, service_key) WHERE released_at IS NULL;

-- Coverage over time: one row per day at least, and one whenever the figures change.
CREATE TABLE coverage_snapshots (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    taken_at   timestamptz NOT NULL,
    services   integer NOT NULL,
    documented integer NOT NULL,
    passing    integer NOT NULL,
    fresh      integer NOT NULL,
    target     double precision NOT NULL
);
CREATE INDEX coverage_snapshots_by_time ON coverage_snapshots (taken_at);
