-- A sweep record's kernel ids, 16 bytes each, one after another in a bytea. As uuid[] Postgres
-- parsed every element of a 100,000-kernel sweep on each write (120 ms of a one-second sweep,
-- measured); as bytes it copies them. Random ids do not compress: EXTERNAL storage skips trying.
ALTER TABLE sweeps
  ALTER COLUMN success_ids TYPE bytea USING decode(replace(array_to_string(success_ids, ''), '-', ''), 'hex'),
  ALTER COLUMN failure_ids TYPE bytea USING decode(replace(array_to_string(failure_ids, ''), '-', ''), 'hex'),
  ALTER COLUMN skipped_ids TYPE bytea USING decode(replace(array_to_string(skipped_ids, ''), '-', ''), 'hex'),
  ALTER COLUMN terminated TYPE bytea USING decode(replace(array_to_string(terminated, ''), '-', ''), 'hex');
ALTER TABLE sweeps
  ALTER COLUMN success_ids SET STORAGE EXTERNAL,
  ALTER COLUMN failure_ids SET STORAGE EXTERNAL,
  ALTER COLUMN skipped_ids SET STORAGE EXTERNAL,
  ALTER COLUMN terminated SET STORAGE EXTERNAL;
