-- A sweep of 100,000 kernels must stay small: kernel ids are kept as uuid[] (16 bytes each), and
-- what the ids share (from_status and reason, or the skip cause) as run-length encoded JSON runs
-- in input order, not as one JSON object per kernel.
CREATE TABLE sweeps (
  id             uuid PRIMARY KEY,
  scaling_group  text NOT NULL,
  handler        text NOT NULL,
  dry_run        boolean NOT NULL,
  forced         boolean NOT NULL,
  outcome        text NOT NULL CHECK (outcome IN ('completed', 'dry_run', 'guard_tripped', 'failed')),
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz NOT NULL,
  success_ids    uuid[] NOT NULL,
  failure_ids    uuid[] NOT NULL,
  skipped_ids    uuid[] NOT NULL,
  -- {"successes": [{"from_status", "reason", "count"}], "failures": [...], "skipped": [{"cause", "count"}]}
  result         jsonb NOT NULL,
  terminated     uuid[] NOT NULL,
  error          text NULL
);

CREATE INDEX sweeps_started_idx ON sweeps (started_at DESC, id DESC);
CREATE INDEX sweeps_group_started_idx ON sweeps (scaling_group, started_at DESC, id DESC);
