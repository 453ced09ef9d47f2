DROP TABLE kernel_confirmations;
DROP INDEX kernels_group_status_id_idx;
CREATE INDEX kernels_group_status_id_idx
  ON kernels (scaling_group, status, id) INCLUDE (session_id, agent_id);
ALTER TABLE kernels DROP COLUMN version;
