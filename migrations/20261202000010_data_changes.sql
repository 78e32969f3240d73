-- Every committed change to the portal's data is announced on one channel, so that each
-- process's read model (server/src/readmodel) learns that its pages are out of date without
-- asking Postgres on every view. Statement-level triggers: one notification per statement, which
-- Postgres folds into one per transaction and delivers at commit (never for a rollback), from
-- whatever wrote: a person, the worker, another replica, a script or psql.
--
-- A table added later gets the same trigger in its own migration (`announce_data_change`);
-- a test checks that every table of the schema has it.
CREATE FUNCTION announce_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('audit_data_changed', '');
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT tablename FROM pg_tables
        WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'
    LOOP
        EXECUTE format(
            'CREATE TRIGGER announce_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION announce_data_change()',
            t.tablename);
    END LOOP;
END
$$;
