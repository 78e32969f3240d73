-- Rollouts: a system being introduced (the accounting system first), its evaluation matrix,
-- the decision, and the deployment checklist whose items people or the portal itself verify.
-- People's inputs are appended: the latest weight set, score, decision and item event count.

CREATE TABLE rollouts (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                 text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]+$'),
    name                 text NOT NULL CHECK (name <> ''),
    goal                 text NOT NULL,
    host                 text NOT NULL,               -- the router rule the checks look for
    allowlist_middleware text,                        -- e.g. vpn-only@file
    template_of          bigint REFERENCES rollouts (id),
    checked_at           timestamptz,                 -- the worker's last automatic check
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rollout_candidates (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rollout_id    bigint NOT NULL REFERENCES rollouts (id),
    name          text NOT NULL CHECK (name <> ''),
    service_match text NOT NULL CHECK (service_match <> ''),   -- found in service keys / images
    position      integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX rollout_candidates_name ON rollout_candidates (rollout_id, lower(name));

CREATE TABLE rollout_criteria (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rollout_id bigint NOT NULL REFERENCES rollouts (id),
    name       text NOT NULL CHECK (name <> ''),
    position   integer NOT NULL,
    UNIQUE (rollout_id, position)
);

-- Weights are saved as a whole set (they must sum to 100); the latest set counts.
CREATE TABLE rollout_weight_sets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rollout_id  bigint NOT NULL REFERENCES rollouts (id),
    weights     jsonb NOT NULL,                        -- [{criterion_id, weight}]
    actor_name  text NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE rollout_scores (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES rollout_candidates (id),
    criterion_id bigint NOT NULL REFERENCES rollout_criteria (id),
    score        smallint NOT NULL CHECK (score BETWEEN 0 AND 10),
    note         text NOT NULL DEFAULT '',
    actor_name   text NOT NULL,
    at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX rollout_scores_latest ON rollout_scores (candidate_id, criterion_id, id DESC);

CREATE TABLE rollout_decisions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rollout_id   bigint NOT NULL REFERENCES rollouts (id),
    candidate_id bigint NOT NULL REFERENCES rollout_candidates (id),
    rationale    text NOT NULL CHECK (rationale <> ''),
    actor_name   text NOT NULL,
    at           timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Checklist items; `auto_check` names what the portal verifies from the inventory (see
-- server/src/rollouts/checks.rs), NULL for items that need a person's evidence.
CREATE TABLE rollout_items (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rollout_id bigint NOT NULL REFERENCES rollouts (id),
    position   integer NOT NULL,
    title      text NOT NULL CHECK (title <> ''),
    auto_check text,
    UNIQUE (rollout_id, position)
);

-- Every change of an item: by a person (status, owner, due date, evidence) or by the portal
-- (a check that started or stopped holding, with its fact). The latest row is the item's state.
CREATE TABLE rollout_item_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id    bigint NOT NULL REFERENCES rollout_items (id),
    status     text NOT NULL CHECK (status IN ('todo', 'in_progress', 'done', 'verified')),
    source     text NOT NULL CHECK (source IN ('person', 'portal')),
    owner      text,
    due_on     date,
    note       text NOT NULL DEFAULT '',
    link       text,
    actor_name text NOT NULL,
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX rollout_item_events_latest ON rollout_item_events (item_id, id DESC);

CREATE TRIGGER rollout_scores_append_only BEFORE UPDATE OR DELETE ON rollout_scores
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rollout_decisions_append_only BEFORE UPDATE OR DELETE ON rollout_decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rollout_weight_sets_append_only BEFORE UPDATE OR DELETE ON rollout_weight_sets
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rollout_item_events_append_only BEFORE UPDATE OR DELETE ON rollout_item_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
