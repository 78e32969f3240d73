-- The accounting rollout's backup and monitoring items now verify themselves (from the backup
-- heartbeats and from the route probes with the health check); existing rollouts gain the
-- checks on the items seeded with those titles that no one gave a check to.
UPDATE rollout_items SET auto_check = 'backup'
WHERE auto_check IS NULL AND title = 'Backups to the existing backup infrastructure, restore tested';
UPDATE rollout_items SET auto_check = 'monitoring'
WHERE auto_check IS NULL AND title = 'Monitoring integration (uptime, health checks)';
