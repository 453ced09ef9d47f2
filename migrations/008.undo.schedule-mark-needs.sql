DROP TABLE schedule_mark_needs;
