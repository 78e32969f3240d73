-- Notifications. Admins choose which conditions are worth a message (notify_rules) and how each
-- configured channel gets them (notify_channel_modes); the channels themselves, with their
-- secrets, live in the configuration, never here. After every refresh the worker writes each
-- condition it sees as one open row of notify_conditions (one per rule and key while it
-- holds: the partial unique index is what makes "no duplicate while the condition is the same"
-- true) and closes it when it stops holding. Opening a condition queues one delivery per
-- channel; the worker sends them with retries and records every attempt in notify_attempts,
-- which is append-only.

CREATE TABLE notify_rules (
    rule       text PRIMARY KEY,                 -- app::model::notify::Rule's slug
    enabled    boolean NOT NULL,
    days       integer CHECK (days BETWEEN 1 AND 365),
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notify_channel_modes (
    channel    text PRIMARY KEY,                 -- the configured channel's name
    mode       text NOT NULL CHECK (mode IN ('immediate', 'digest')),
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notify_conditions (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule      text NOT NULL,
    key       text NOT NULL,                     -- what makes it this condition: a service and kind, an engine, a letter
    title     text NOT NULL,
    body      text NOT NULL,
    severity  text NOT NULL CHECK (severity IN ('high', 'medium', 'low', 'info')),
    link      text,                              -- the portal page that shows it (a path)
    opened_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz
);
CREATE UNIQUE INDEX notify_conditions_open ON notify_conditions (rule, key) WHERE closed_at IS NULL;

CREATE TABLE notify_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('event', 'digest', 'test')),
    condition_id    bigint REFERENCES notify_conditions (id),
    title           text NOT NULL,
    body            text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('high', 'medium', 'low', 'info')),
    link            text,
    -- held: waiting for the channel's digest; digested: sent inside digest_id.
    state           text NOT NULL CHECK (state IN ('held', 'pending', 'sent', 'failed', 'digested')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    digest_id       bigint REFERENCES notify_deliveries (id),
    requested_by    text,                        -- who pressed "send a test"
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK ((kind = 'event') = (condition_id IS NOT NULL))
);
-- One message per channel for a condition, whatever happens to the worker in between.
CREATE UNIQUE INDEX notify_deliveries_once ON notify_deliveries (channel, condition_id)
    WHERE condition_id IS NOT NULL;
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notify_deliveries_recent ON notify_deliveries (id DESC);

CREATE TABLE notify_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES notify_deliveries (id),
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    ok          boolean NOT NULL,
    status      integer,                         -- the receiver's HTTP status, when it answered
    error       text                             -- why it failed, secrets never included
);
CREATE INDEX notify_attempts_by_delivery ON notify_attempts (delivery_id, id DESC);
CREATE TRIGGER notify_attempts_append_only BEFORE UPDATE OR DELETE ON notify_attempts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
