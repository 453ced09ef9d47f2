CREATE TABLE agents (
  id            text PRIMARY KEY,
  address       text NOT NULL,
  scaling_group text NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX agents_scaling_group_idx ON agents (scaling_group, id);
