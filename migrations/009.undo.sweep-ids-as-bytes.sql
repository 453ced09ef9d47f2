CREATE FUNCTION pg_temp.uuids_of (ids bytea) RETURNS uuid[] LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(encode(substring(ids FROM i * 16 + 1 FOR 16), 'hex')::uuid ORDER BY i), '{}')
  FROM generate_series(0, length(ids) / 16 - 1) AS i
$$;
ALTER TABLE sweeps
  ALTER COLUMN success_ids TYPE uuid[] USING pg_temp.uuids_of(success_ids),
  ALTER COLUMN failure_ids TYPE uuid[] USING pg_temp.uuids_of(failure_ids),
  ALTER COLUMN skipped_ids TYPE uuid[] USING pg_temp.uuids_of(skipped_ids),
  ALTER COLUMN terminated TYPE uuid[] USING pg_temp.uuids_of(terminated);
ALTER TABLE sweeps
  ALTER COLUMN success_ids SET STORAGE EXTENDED,
  ALTER COLUMN failure_ids SET STORAGE EXTENDED,
  ALTER COLUMN skipped_ids SET STORAGE EXTENDED,
  ALTER COLUMN terminated SET STORAGE EXTENDED;
