-- Capacity: resource history beyond availability, each host's facts and memory over time,
-- saved baselines, the dependency map and the image versions seen.

-- More of what the worker already reads per sample, kept per hour: the CPU peak, the memory
-- average (sum and count), and block and network I/O (bytes moved between two samples).
ALTER TABLE service_hourly
    ADD COLUMN cpu_percent_max double precision,
    ADD COLUMN memory_sum      double precision NOT NULL DEFAULT 0,
    ADD COLUMN memory_samples  integer NOT NULL DEFAULT 0,
    ADD COLUMN block_io_bytes  bigint NOT NULL DEFAULT 0,
    ADD COLUMN net_io_bytes    bigint NOT NULL DEFAULT 0;

-- What each engine's `info` says about its host, as of the latest refresh.
ALTER TABLE engines
    ADD COLUMN host_cpus         integer,
    ADD COLUMN host_memory_bytes bigint,
    ADD COLUMN kernel_version    text,
    ADD COLUMN operating_system  text,
    ADD COLUMN storage_driver    text;

-- One row per engine per hour: the containers' memory against the host's.
CREATE TABLE engine_hourly (
    engine_id         bigint NOT NULL REFERENCES engines (id),
    hour              timestamptz NOT NULL,
    samples           integer NOT NULL,
    memory_used_max   bigint NOT NULL,  -- sum of the containers' use, highest sample of the hour
    memory_used_sum   double precision NOT NULL,
    limits_sum_max    bigint NOT NULL,  -- sum of the memory limits that are set
    unlimited_max     integer NOT NULL, -- running containers without a memory limit
    host_memory_bytes bigint,
    PRIMARY KEY (engine_id, hour)
);

-- A dated baseline an admin saved: per service, what "normal" was.
CREATE TABLE capacity_baselines (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    taken_at    timestamptz NOT NULL DEFAULT now(),
    taken_by    text NOT NULL,
    window_days integer NOT NULL CHECK (window_days BETWEEN 1 AND 30)
);

CREATE TABLE capacity_baseline_services (
    baseline_id    bigint NOT NULL REFERENCES capacity_baselines (id),
    service_id     bigint NOT NULL REFERENCES services (id),
    samples        integer NOT NULL,
    cpu_p95        double precision,
    memory_p95     bigint,
    latency_p95_ms double precision,
    PRIMARY KEY (baseline_id, service_id)
);

-- A baseline is a record: later comparisons rely on it staying what it was.
CREATE TRIGGER capacity_baselines_append_only BEFORE UPDATE OR DELETE ON capacity_baselines
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER capacity_baseline_services_append_only BEFORE UPDATE OR DELETE ON capacity_baseline_services
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Who needs whom, as of the latest refresh of the engine; `via` names every source of the edge
-- (compose, network, env, traefik, label). Environment values are never stored, only the edge.
CREATE TABLE service_dependencies (
    engine_id    bigint NOT NULL REFERENCES engines (id),
    from_service bigint NOT NULL REFERENCES services (id),
    to_service   bigint NOT NULL REFERENCES services (id),
    via          text[] NOT NULL,
    PRIMARY KEY (from_service, to_service),
    CHECK (from_service <> to_service)
);
CREATE INDEX service_dependencies_to ON service_dependencies (to_service);

-- Every (image reference, image id) an engine has run: a reference whose id changes was updated.
CREATE TABLE image_versions (
    engine_id     bigint NOT NULL REFERENCES engines (id),
    image_ref     text NOT NULL,
    image_id      text NOT NULL,
    image_created timestamptz,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    PRIMARY KEY (engine_id, image_ref, image_id)
);
