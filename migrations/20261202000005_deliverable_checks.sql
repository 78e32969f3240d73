-- Deliverables bound to a live check (phases::checks): each binding or unbinding is a new row,
-- never edited, like the rest of a phase; the latest row of a deliverable is in force (a NULL
-- spec: unbound). The worker appends a status event by the portal whenever the check's verdict
-- changes, so the deliverable keeps one history.
CREATE TABLE deliverable_checks (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deliverable_id bigint NOT NULL REFERENCES phase_deliverables (id),
    check_spec     text CHECK (check_spec <> ''),      -- e.g. no_finding:no_healthcheck, coverage:50.00
    actor_subject  text NOT NULL,
    actor_name     text NOT NULL,
    at             timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX deliverable_checks_latest ON deliverable_checks (deliverable_id, id DESC);
CREATE TRIGGER deliverable_checks_append_only BEFORE UPDATE OR DELETE ON deliverable_checks
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
