CREATE TABLE kernel_status_history (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kernel_id   uuid NOT NULL REFERENCES kernels (id) ON DELETE CASCADE,
  from_status text NOT NULL,
  to_status   text NOT NULL,
  reason      text NULL,
  -- No foreign key: the sweep's record is written after its transitions, whatever its outcome.
  sweep_id    uuid NULL,
  changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX kernel_status_history_kernel_idx ON kernel_status_history (kernel_id, id);
