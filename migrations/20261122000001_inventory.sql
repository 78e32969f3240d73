-- Service inventory: what the worker reads from each Docker engine, and its history.
-- Current state lives on `services`; history is kept compact (transitions in `service_events`,
-- per-hour aggregates in `service_hourly`, per-refresh totals in `refresh_runs`) so a year of
-- 30-second refreshes of 100 services stays small. Nothing here is ever deleted by a refresh.

-- A Docker engine, by the name given in the configuration (e.g. "master", "lady").
CREATE TABLE engines (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL UNIQUE,
    endpoint         text NOT NULL,               -- display form, never with credentials
    docker_version   text,
    api_version      text,
    configured       boolean NOT NULL DEFAULT true, -- false once it leaves the configuration
    reachable        boolean NOT NULL DEFAULT false,
    last_refresh_at  timestamptz,                 -- last attempt, successful or not
    last_success_at  timestamptz,                 -- services are stale when this is old
    last_duration_ms bigint,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- A service: a compose project + service, else a container name, on one engine.
-- Its identity (engine_id, key) survives container re-creation.
CREATE TABLE services (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    engine_id       bigint NOT NULL REFERENCES engines (id),
    key             text NOT NULL,                -- "project/service" or the container name
    compose_project text,
    compose_service text,
    display_name    text NOT NULL,                -- homepage.name label, else the key
    group_name      text,                         -- homepage.group
    description     text,                         -- homepage.description
    owner           text,                         -- audit.owner
    tier            text,                         -- audit.tier
    doc_path        text,                         -- audit.docs
    container_id    text NOT NULL,
    state           text NOT NULL,                -- Docker's state: running, exited, ...
    health          text,                         -- healthy, unhealthy, starting, or NULL
    image_ref       text NOT NULL,
    facts           jsonb NOT NULL,               -- app::model::ServiceFacts; env values are never in it
    findings        jsonb NOT NULL DEFAULT '[]',  -- app::model::Finding[]
    first_seen      timestamptz NOT NULL,
    last_seen       timestamptz NOT NULL,
    removed_at      timestamptz,                  -- set when its container disappears; cleared if it returns
    UNIQUE (engine_id, key)
);

-- Changes only: state and health transitions, re-created containers, findings opened and closed,
-- removals. Written when something changes, so a steady service writes nothing here.
CREATE TABLE service_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id bigint NOT NULL REFERENCES services (id),
    at         timestamptz NOT NULL,
    kind       text NOT NULL,
    detail     text NOT NULL
);
CREATE INDEX service_events_by_service ON service_events (service_id, at DESC);

-- One row per service per hour: how many refreshes saw it, how many saw it up, resource use.
-- Availability over 24 h, 7 d and 30 d is up_samples / samples over those hours.
CREATE TABLE service_hourly (
    service_id      bigint NOT NULL REFERENCES services (id),
    hour            timestamptz NOT NULL,
    samples         integer NOT NULL,
    up_samples      integer NOT NULL,
    cpu_percent_sum double precision NOT NULL DEFAULT 0,
    cpu_samples     integer NOT NULL DEFAULT 0,
    memory_max      bigint,
    log_errors      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, hour)
);

-- One row per engine per refresh: totals and timing, for the engine page and trends.
CREATE TABLE refresh_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    engine_id   bigint NOT NULL REFERENCES engines (id),
    started_at  timestamptz NOT NULL,
    duration_ms bigint NOT NULL,
    ok          boolean NOT NULL,
    error       text,
    containers  integer NOT NULL DEFAULT 0,
    running     integer NOT NULL DEFAULT 0,
    unhealthy   integer NOT NULL DEFAULT 0,
    findings    integer NOT NULL DEFAULT 0
);
CREATE INDEX refresh_runs_by_engine ON refresh_runs (engine_id, started_at DESC);
