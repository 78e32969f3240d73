-- Rubric versions: each change an admin makes to the weights or letter thresholds is a new row;
-- snapshots keep the version they were scored with. With no row, version 1 is the default rubric.
CREATE TABLE rubric_versions (
    version       integer PRIMARY KEY CHECK (version >= 2),
    created_at    timestamptz NOT NULL DEFAULT now(),
    actor_subject text NOT NULL,
    actor_name    text NOT NULL,
    categories    jsonb NOT NULL,   -- [[name, weight "20.00"], ...]
    thresholds    jsonb NOT NULL,   -- [[letter, minimum "90.00"], ...]
    failing       text NOT NULL
);
