DROP INDEX kernels_agent_idx;
ALTER TABLE agents DROP COLUMN last_reached_at, DROP COLUMN unreachable_since, DROP COLUMN decommissioned_at;
