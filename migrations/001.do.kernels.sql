CREATE TABLE kernels (
  id                uuid PRIMARY KEY,
  session_id        uuid NOT NULL,
  scaling_group     text NOT NULL,
  agent_id          text NULL,
  status            text NOT NULL CHECK (status IN (
                      'PENDING', 'RESERVED', 'SCHEDULED', 'PREPARING', 'BUILDING', 'PULLING',
                      'PREPARED', 'CREATING', 'RUNNING', 'RESTARTING', 'RESIZING', 'SUSPENDED',
                      'TERMINATING', 'TERMINATED', 'ERROR', 'CANCELLED')),
  status_info       text NULL,
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  terminated_at     timestamptz NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- "The RUNNING kernels of a group", in id order, answered from the index alone: the columns a
-- handler needs are included, so a sweep of 100,000 kernels never reads the table's heap.
CREATE INDEX kernels_group_status_id_idx
  ON kernels (scaling_group, status, id) INCLUDE (session_id, agent_id);
