-- The action plan (/actions): the open findings rolled up into actions, one per finding kind and
-- service, or one per kind across services where a single change fixes them all (a certificate
-- resolver). The worker keeps `actions` in step with the findings after every refresh; what
-- people decide about an action (owner, due date, accepted risk, effort) and what the portal
-- observes (done when the findings are gone, reopened when they return, a risk whose acceptance
-- expired) are appended to `action_changes`, never edited. The latest change of an action is in
-- force; an action without any change is open, unowned, with the kind's default effort.

CREATE TABLE actions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL,                        -- app::model::FindingKind's slug
    service_id bigint REFERENCES services (id),      -- NULL: across every service with the kind
    opened_at  timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz                           -- when its findings disappeared; NULL while open
);
-- One action per kind and service (or per kind across services): the worker's upsert relies on it.
CREATE UNIQUE INDEX actions_identity ON actions (kind, coalesce(service_id, 0));

CREATE TABLE action_changes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_id       bigint NOT NULL REFERENCES actions (id),
    state           text NOT NULL CHECK (state IN ('open', 'accepted', 'done')),
    owner           text CHECK (owner <> ''),
    due_on          date,
    effort          text CHECK (effort IN ('quick', 'longer')), -- NULL: the kind's default
    reason          text CHECK (reason <> ''),
    risk_expires_on date,
    note            text NOT NULL DEFAULT '',             -- the portal's fact, or the person's note
    actor_subject   text NOT NULL,
    actor_name      text NOT NULL,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- An accepted risk always says why and until when.
    CHECK (state <> 'accepted' OR (reason IS NOT NULL AND risk_expires_on IS NOT NULL))
);
CREATE INDEX action_changes_latest ON action_changes (action_id, id DESC);
CREATE TRIGGER action_changes_append_only BEFORE UPDATE OR DELETE ON action_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
