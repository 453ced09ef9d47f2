-- Contract v2 rule 5: the need for a schedule mark is written with the terminations that cause it,
-- and cleared once the mark is set in Valkey, so a crash between the two never loses the mark.
-- `generation` rises with every new need: a mark set for generation g clears the need only if no
-- sweep needed it again meanwhile.
CREATE TABLE schedule_mark_needs (
  schedule_type text PRIMARY KEY,
  generation    bigint NOT NULL DEFAULT 1,
  needed_at     timestamptz NOT NULL DEFAULT now()
);
