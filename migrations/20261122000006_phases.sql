-- Phase sign-off: phases and their deliverables, the history of each deliverable's status,
-- completion and verification reports, and the hash-chained sign-offs. Everything here is
-- appended, never edited: status changes, reports and decisions are new rows.

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TABLE phases (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number          text NOT NULL UNIQUE CHECK (number ~ '^PHASE-[0-9]{2,4}$'),
    title           text NOT NULL CHECK (title <> ''),
    starts_on       date,
    due_on          date,
    target_grade    integer CHECK (target_grade BETWEEN 0 AND 10000),   -- hundredths
    objectives      jsonb NOT NULL DEFAULT '[]',
    criteria        jsonb NOT NULL DEFAULT '[]',
    source_markdown text,              -- the plan as imported, kept verbatim
    import_notes    jsonb NOT NULL DEFAULT '[]',
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- A checklist item of a plan, or a remediation item a conditional sign-off asked for.
CREATE TABLE phase_deliverables (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phase_id    bigint NOT NULL REFERENCES phases (id),
    position    integer NOT NULL,
    headings    jsonb NOT NULL DEFAULT '[]',
    text        text NOT NULL CHECK (text <> ''),
    depth       smallint NOT NULL DEFAULT 0,
    origin      text NOT NULL CHECK (origin IN ('plan', 'added', 'remediation')),
    owner       text,
    due_on      date,
    signoff_id  bigint,               -- the conditional sign-off that asked for it
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (phase_id, position)
);

-- Each status change with its evidence; the latest row is the current status.
CREATE TABLE deliverable_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deliverable_id bigint NOT NULL REFERENCES phase_deliverables (id),
    status         text NOT NULL CHECK (status IN ('open', 'done', 'waived')),
    note           text NOT NULL DEFAULT '',
    link           text,
    report         text,              -- an attached Markdown report
    actor_subject  text NOT NULL,
    actor_name     text NOT NULL,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (status <> 'waived' OR note <> '')
);
CREATE INDEX deliverable_events_latest ON deliverable_events (deliverable_id, id DESC);

-- Completion and verification reports; a newer report of a kind supersedes the older one on the
-- page, and both stay. `claims` holds the verification's verdict per deliverable.
CREATE TABLE phase_reports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phase_id      bigint NOT NULL REFERENCES phases (id),
    kind          text NOT NULL CHECK (kind IN ('completion', 'verification')),
    body          text NOT NULL CHECK (body <> ''),
    claims        jsonb NOT NULL DEFAULT '[]',   -- [{deliverable_id, text, verdict}]
    actor_subject text NOT NULL,
    actor_name    text NOT NULL,
    at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX phase_reports_by_phase ON phase_reports (phase_id, kind, id DESC);

-- The sign-offs: one hash chain over all phases. `seq` numbers the chain without gaps; each
-- row's `hash` covers its content and `prev_hash` (see server/src/phases/chain.rs). Appends take
-- a transaction-scoped advisory lock, and UNIQUE(seq) backs it up, so the chain cannot fork.
CREATE TABLE phase_signoffs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq              bigint NOT NULL UNIQUE CHECK (seq > 0),
    phase_id         bigint NOT NULL REFERENCES phases (id),
    phase_number     text NOT NULL,
    decision         text NOT NULL CHECK (decision IN ('approved', 'conditional', 'rejected')),
    comment          text NOT NULL,
    reasons          text NOT NULL,
    remediation      text NOT NULL,           -- JSON text, hashed as stored
    grade_total      integer NOT NULL,
    grade_letter     text NOT NULL,
    rubric_version   integer NOT NULL,
    evidence         text NOT NULL,           -- JSON text, hashed as stored
    supersedes       bigint REFERENCES phase_signoffs (id),
    signer_issuer    text NOT NULL,
    signer_subject   text NOT NULL,
    signer_name      text NOT NULL,
    auth_time        bigint NOT NULL,
    signed_at_micros bigint NOT NULL,
    prev_hash        text NOT NULL,
    hash             text NOT NULL UNIQUE
);
CREATE INDEX phase_signoffs_by_phase ON phase_signoffs (phase_id, seq DESC);

ALTER TABLE phase_deliverables
    ADD CONSTRAINT phase_deliverables_signoff FOREIGN KEY (signoff_id) REFERENCES phase_signoffs (id);

CREATE TRIGGER deliverable_events_append_only BEFORE UPDATE OR DELETE ON deliverable_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER phase_reports_append_only BEFORE UPDATE OR DELETE ON phase_reports
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER phase_signoffs_append_only BEFORE UPDATE OR DELETE ON phase_signoffs
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER phase_signoffs_no_truncate BEFORE TRUNCATE ON phase_signoffs
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER phase_deliverables_append_only BEFORE UPDATE OR DELETE ON phase_deliverables
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
