-- Contract v2 rule 15: the event log. Rows are written in the transaction of what they report and
-- read in id order by `after` cursors (the primary key); they are pruned by age.
CREATE TABLE events (
  id      bigint PRIMARY KEY,
  type    text NOT NULL CHECK (type IN ('kernel.terminated', 'sweep.finished', 'agent.decommissioned')),
  subject text NOT NULL,
  time    timestamptz NOT NULL DEFAULT now(),
  data    jsonb NOT NULL
);

-- Pruning finds the newest id older than the retention from the index alone.
CREATE INDEX events_time_idx ON events (time) INCLUDE (id);

-- One row. Ids are handed out by raising last_id, whose row lock is held to commit: a transaction
-- gets its ids only once every transaction that took ids before it has committed or rolled back,
-- so ids become visible in id order and a reader at cursor X never later finds an event <= X.
-- pruned_through is the highest id pruned: a cursor below it has lost events (410).
CREATE TABLE event_counter (
  singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_id        bigint NOT NULL,
  pruned_through bigint NOT NULL
);
INSERT INTO event_counter (last_id, pruned_through) VALUES (0, 0);

-- A sweep's kernel.terminated events are read from its history rows.
CREATE INDEX kernel_status_history_sweep_idx ON kernel_status_history (sweep_id) WHERE sweep_id IS NOT NULL;
