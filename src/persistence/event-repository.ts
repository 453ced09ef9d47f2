import type { EventType, LoggedEvent, SweepSummary } from '../domain/events.js'
import type { Queryable } from './database.js'
import { EVENT_CHANNEL } from './event-notifier.js'

/*
 * A sweep's events in one statement, however many kernels it terminated: its kernel.terminated
 * events are read from its own history rows (with the kernel's version after the change), then one
 * agent.decommissioned per agent given, then its sweep.finished.
 *
 * Ids come from raising event_counter.last_id, and that row's lock is held until commit: a
 * transaction gets ids only after every transaction that took ids before it has ended, so events
 * become visible in id order and a reader never finds an event below a cursor it already passed
 * (rule 15). A plain sequence would not do: its values are taken at insert but become visible at
 * commit, in any order. The events are assembled before the counter is touched (the UPDATE's
 * count is evaluated before its row is locked), so the lock is held for the insert and the commit
 * only. A transaction that rolls back gives its ids back, so ids have no gaps. The notification
 * is delivered at commit, and only then.
 */
const APPEND_SQL = `
WITH terminated AS (
  SELECT h.id AS seq, h.kernel_id::text AS subject, jsonb_build_object(
    'kernel_id', h.kernel_id, 'session_id', k.session_id, 'scaling_group', k.scaling_group,
    'agent_id', k.agent_id, 'from_status', h.from_status, 'reason', h.reason,
    'sweep_id', h.sweep_id, 'version', k.version) AS data
  FROM kernel_status_history h JOIN kernels k ON k.id = h.kernel_id
  WHERE h.sweep_id = $1::uuid
), pending AS (
  SELECT row_number() OVER (ORDER BY rank, seq) AS n, type, subject, data FROM (
    SELECT 1 AS rank, seq, 'kernel.terminated' AS type, subject, data FROM terminated
    UNION ALL
    SELECT 2, seq, 'agent.decommissioned', agent_id,
      jsonb_build_object('agent_id', agent_id, 'scaling_group', $2::text, 'sweep_id', $1::uuid)
    FROM unnest($3::text[]) WITH ORDINALITY AS a (agent_id, seq)
    UNION ALL
    SELECT 3, 0, 'sweep.finished', $1::uuid::text, $4::jsonb
  ) AS all_events
), size AS (
  SELECT count(*) AS n FROM pending
), counter AS (
  UPDATE event_counter SET last_id = last_id + size.n FROM size
  RETURNING last_id - size.n AS before, last_id
), inserted AS (
  INSERT INTO events (id, type, subject, data)
  SELECT counter.before + pending.n, pending.type, pending.subject, pending.data FROM pending CROSS JOIN counter
)
SELECT pg_notify('${EVENT_CHANNEL}', last_id::text) FROM counter`

// One statement, so the pruned mark and the events are read from one snapshot: a prune that
// commits meanwhile cannot make a page silently skip what it deleted.
const PAGE_SQL = `
SELECT $1::bigint < c.pruned_through AS expired, e.id::text AS id, e.type, e.subject, e.time, e.data
FROM event_counter c
LEFT JOIN LATERAL (
  SELECT * FROM events
  WHERE id > COALESCE($1::bigint, c.pruned_through) AND ($2::text[] IS NULL OR type = ANY ($2::text[]))
  ORDER BY id
  LIMIT $3
) e ON true
ORDER BY e.id`

/*
 * Everything up to the newest event older than the cut is deleted (events' times follow their
 * transactions' starts, not quite their ids), so what is kept is exactly the ids above the mark.
 * The counter row is locked last, after the delete, for as short a time as possible.
 */
const PRUNE_SQL = `
WITH cut AS (
  SELECT max(id) AS id FROM events WHERE time < $1
), deleted AS (
  DELETE FROM events WHERE id <= (SELECT id FROM cut) RETURNING 1
), marked AS (
  UPDATE event_counter SET pruned_through = cut.id FROM cut WHERE cut.id > pruned_through
)
SELECT count(*)::int AS n FROM deleted`

export interface EventPageQuery {
  /** The last id the reader was given; null reads from the oldest event kept. */
  readonly after: string | null
  /** Only these types; null for all. */
  readonly types: readonly EventType[] | null
  readonly limit: number
}

interface PageRow {
  readonly expired: boolean | null
  readonly id: string | null
  readonly type: EventType
  readonly subject: string
  readonly time: Date
  readonly data: Record<string, unknown>
}

/** The event log (rule 15): written with what it reports, read in id order, pruned by age. */
export class EventRepository {
  constructor (private readonly db: Queryable) {}

  /** The same repository writing inside `tx`, so events commit with what they report. */
  within (tx: Queryable): EventRepository {
    return new EventRepository(tx)
  }

  /**
   * Writes a recorded sweep's events, inside its transaction, after its transitions and record.
   * Call it as the transaction's last write: from here to commit, other transactions' events wait.
   * `decommissioned`: the agents this sweep decommissioned (a completed decommissioning only).
   */
  async appendSweepEvents (sweep: SweepSummary, decommissioned: readonly string[]): Promise<void> {
    await this.db.query(APPEND_SQL, [sweep.sweepId, sweep.scalingGroup, decommissioned, JSON.stringify({
      sweep_id: sweep.sweepId,
      scaling_group: sweep.scalingGroup,
      handler: sweep.handler,
      outcome: sweep.outcome,
      dry_run: sweep.dryRun,
      forced: sweep.forced,
      kernels: sweep.kernels,
      failures: sweep.failures,
      terminated: sweep.terminated,
      skipped: sweep.skipped,
    })])
  }

  /** Events after `after`, oldest first; null when some of them were pruned (the cursor expired). */
  async page (query: EventPageQuery): Promise<LoggedEvent[] | null> {
    const rows = await this.db.query<PageRow>(PAGE_SQL, [query.after, query.types, query.limit])
    if (rows[0]?.expired === true) return null
    return rows.flatMap((row) => row.id === null
      ? []
      : [{ id: row.id, type: row.type, subject: row.subject, time: row.time, data: row.data }])
  }

  /** The newest id committed ('0' if none): a stream with no cursor starts after it. */
  async lastId (): Promise<string> {
    const [row] = await this.db.query<{ id: string }>('SELECT last_id::text AS id FROM event_counter')
    return row?.id ?? '0'
  }

  /** Deletes the events older than `olderThan` and raises the pruned mark; returns how many went. */
  async prune (olderThan: Date): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(PRUNE_SQL, [olderThan])
    return row?.n ?? 0
  }
}
