-- Contract v2 rules 12–14: what the sweeps learned of each agent, and whether it was decommissioned.
-- Registering again (PUT /v1/agents/{id}) clears unreachable_since and decommissioned_at.
ALTER TABLE agents
  ADD COLUMN last_reached_at   timestamptz NULL,
  ADD COLUMN unreachable_since timestamptz NULL,
  ADD COLUMN decommissioned_at timestamptz NULL;

-- "The agent's kernels" (decommissioning, reconciliation, the kernels list's agent_id filter).
CREATE INDEX kernels_agent_idx ON kernels (agent_id, id) WHERE agent_id IS NOT NULL;
