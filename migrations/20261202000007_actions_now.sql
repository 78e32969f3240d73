-- Each action with its latest change (all change columns NULL when nobody and nothing has
-- changed it yet): the state in force, read by the plan, the service pages, the dashboard and
-- the worker's step, so the "latest change" rule is written once.
CREATE VIEW actions_now AS
SELECT a.id, a.kind, a.service_id, a.opened_at, a.closed_at,
       c.state, c.owner, c.due_on, c.effort, c.reason, c.risk_expires_on, c.note,
       c.actor_name, c.at
FROM actions a
LEFT JOIN LATERAL (SELECT * FROM action_changes WHERE action_id = a.id
                   ORDER BY id DESC LIMIT 1) c ON true;
