DROP INDEX kernel_status_history_sweep_idx;
DROP TABLE event_counter;
DROP TABLE events;
