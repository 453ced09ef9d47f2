-- Contract v2 §1: every write that changes a kernel raises its version, and a sweep terminates a
-- kernel only at the version it read (rule 4), so a kernel restarted or moved meanwhile is left alone.
ALTER TABLE kernels ADD COLUMN version integer NOT NULL DEFAULT 1;

-- The sweep's query reads the version too, still from the index alone.
DROP INDEX kernels_group_status_id_idx;
CREATE INDEX kernels_group_status_id_idx
  ON kernels (scaling_group, status, id) INCLUDE (session_id, agent_id, version);

-- Rule 11: how many sweeps in a row a kernel's own agent said "not running", at the version it
-- had then. A sweep of the group rewrites its group's rows, so they are found by group.
CREATE TABLE kernel_confirmations (
  kernel_id      uuid PRIMARY KEY REFERENCES kernels (id) ON DELETE CASCADE,
  scaling_group  text NOT NULL,
  kernel_version integer NOT NULL,
  count          integer NOT NULL CHECK (count > 0)
);

CREATE INDEX kernel_confirmations_group_idx ON kernel_confirmations (scaling_group);
