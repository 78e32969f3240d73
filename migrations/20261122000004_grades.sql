-- The production-readiness grade: what admins record (assessments with evidence, overrides with
-- a justification), appended and never edited, and the grade's history.

-- A score for an assessed category (Monitoring, Backup/DR, Change Control), with its evidence.
-- Evidence expires: an expired assessment is shown as expired and stops counting.
CREATE TABLE grade_assessments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category      text NOT NULL,
    score         integer NOT NULL CHECK (score BETWEEN 0 AND 10000),   -- hundredths
    note          text NOT NULL,
    link          text,
    evidence_date date NOT NULL,
    expires_on    date NOT NULL,
    actor_subject text NOT NULL,
    actor_name    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX grade_assessments_latest ON grade_assessments (category, created_at DESC);

-- An admin's override of a computed score; the latest per category counts, a NULL score
-- clears it. The computed value stays visible beside it.
CREATE TABLE grade_overrides (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category      text NOT NULL,
    score         integer CHECK (score BETWEEN 0 AND 10000),
    justification text NOT NULL,
    actor_subject text NOT NULL,
    actor_name    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX grade_overrides_latest ON grade_overrides (category, created_at DESC);

-- The grade over time: one row on each change and at least daily.
CREATE TABLE grade_snapshots (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    taken_at       timestamptz NOT NULL,
    rubric_version integer NOT NULL,
    total          integer NOT NULL,        -- hundredths, truncated
    letter         text NOT NULL,           -- after caps
    capped_by      text,
    categories     jsonb NOT NULL           -- [{name, weight, score}]
);
CREATE INDEX grade_snapshots_by_time ON grade_snapshots (taken_at);
