-- Routes from the outside: every HTTP route of the fleet, and what probing it showed.
-- `routes` is derived at each refresh (from labels or Traefik's API) and replaced whole; what is
-- learnt by probing is kept by URL, so it survives a route being renamed or re-created.

CREATE TABLE routes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    router          text NOT NULL,               -- Traefik's router name, e.g. grafana@docker
    url             text NOT NULL,               -- what is probed: scheme://host/path
    host            text NOT NULL,
    source          text NOT NULL,               -- labels | traefik | configured (AUDIT_PROBE_URLS)
    service_id      bigint REFERENCES services (id), -- the service it reaches, when known
    rule            text NOT NULL DEFAULT '',
    entrypoints     text[] NOT NULL DEFAULT '{}',
    middlewares     text[] NOT NULL DEFAULT '{}', -- effective: entrypoint-level ones first
    tls             boolean NOT NULL,
    auth_expected   boolean NOT NULL,
    auth_verdict    boolean,                      -- the latest probe: true wall seen, false content served, NULL unknown
    traefik_status  text,
    traefik_errors  text[] NOT NULL DEFAULT '{}',
    findings        jsonb NOT NULL DEFAULT '[]',  -- app::model::Finding[] of this route alone
    updated_at      timestamptz NOT NULL
);
CREATE INDEX routes_by_service ON routes (service_id);
CREATE INDEX routes_by_url ON routes (url);

-- The latest probe of each URL, with what must be remembered across probes.
CREATE TABLE probe_results (
    url                  text PRIMARY KEY,
    probed_at            timestamptz NOT NULL,
    ok                   boolean NOT NULL,
    failure              text,                    -- unreachable | protocol | status | redirect_loop | certificate
    status               integer,
    latency_ms           integer,
    redirect_to          text,
    error                text,
    chain_error          text,
    cert_not_after       timestamptz,
    cert_issuer          text,
    cert_names           text[] NOT NULL DEFAULT '{}',
    cert_not_after_since timestamptz,             -- since when the expiry date has not moved
    last_answer_at       timestamptz              -- latest answer neither 5xx nor 404
);

-- Raw probes for two days: the 24-hour p95 and the current hour's aggregate come from here.
CREATE TABLE probe_samples (
    url        text NOT NULL,
    at         timestamptz NOT NULL,
    ok         boolean NOT NULL,
    latency_ms integer
);
CREATE INDEX probe_samples_by_url ON probe_samples (url, at);

-- One row per URL per hour, kept like service_hourly: availability and latency over 90 days.
CREATE TABLE probe_hourly (
    url       text NOT NULL,
    hour      timestamptz NOT NULL,
    samples   integer NOT NULL,
    successes integer NOT NULL,
    p50_ms    integer,
    p95_ms    integer,
    PRIMARY KEY (url, hour)
);

-- Traefik's API at the latest read, for the routes page ("read 20 s ago", or since when it fails).
CREATE TABLE traefik_reads (
    id         integer PRIMARY KEY CHECK (id = 1),
    read_at    timestamptz NOT NULL,
    ok         boolean NOT NULL,
    error      text,
    routers    integer NOT NULL DEFAULT 0,
    failing_since timestamptz
);
