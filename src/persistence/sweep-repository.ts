import type { KernelId } from '../domain/kernel-info.js'
import type { KernelStatus } from '../domain/kernel-status.js'
import { KernelTransitionRuns, type SkipCause, type SkippedKernel, type TransitionRun } from '../domain/results.js'
import type { SweepOutcome, SweepRecord } from '../domain/sweep.js'
import type { Queryable } from './database.js'
import { decodeRuns, encodeRuns, type Run } from './run-length.js'
import { packUuids, unpackUuids } from './uuid-bytes.js'

interface TransitionKey { from_status: KernelStatus, reason: string | null }
interface SkipKey { cause: SkipCause, confirmations?: number }

interface StoredRuns {
  successes: Array<Run<TransitionKey>>
  failures: Array<Run<TransitionKey>>
  skipped: Array<Run<SkipKey>>
}

interface SweepRow {
  id: string
  scaling_group: string
  handler: string
  dry_run: boolean
  forced: boolean
  outcome: SweepOutcome
  started_at: Date
  finished_at: Date
  success_ids: Uint8Array
  failure_ids: Uint8Array
  skipped_ids: Uint8Array
  result: StoredRuns
  terminated: Uint8Array
  error: string | null
}

export interface SweepListQuery {
  readonly scalingGroup?: string
  readonly limit: number
}

const COLUMNS = `id, scaling_group, handler, dry_run, forced, outcome, started_at, finished_at,
  success_ids, failure_ids, skipped_ids, result, terminated, error`

const storedRun = (run: TransitionRun): Run<TransitionKey> => ({ from_status: run.fromStatus, reason: run.reason, count: run.count })
const transitionRun = (run: Run<TransitionKey>): TransitionRun => ({ fromStatus: run.from_status, reason: run.reason, count: run.count })
const transitionsOf = (kernelIds: KernelId[], runs: ReadonlyArray<Run<TransitionKey>>): KernelTransitionRuns =>
  new KernelTransitionRuns(kernelIds, runs.map(transitionRun))

const skipKey = (entry: SkippedKernel): SkipKey =>
  entry.confirmations === undefined ? { cause: entry.cause } : { cause: entry.cause, confirmations: entry.confirmations }
const sameSkip = (a: SkipKey, b: SkipKey): boolean => a.cause === b.cause && a.confirmations === b.confirmations
const skippedKernel = (kernelId: string, key: SkipKey): SkippedKernel =>
  key.confirmations === undefined ? { kernelId, cause: key.cause } : { kernelId, cause: key.cause, confirmations: key.confirmations }

function recordOf (row: SweepRow): SweepRecord {
  return {
    sweepId: row.id,
    scalingGroup: row.scaling_group,
    handler: row.handler,
    dryRun: row.dry_run,
    forced: row.forced,
    outcome: row.outcome,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    result: {
      successes: transitionsOf(unpackUuids(row.success_ids), row.result.successes),
      failures: [...transitionsOf(unpackUuids(row.failure_ids), row.result.failures)],
      skipped: decodeRuns(unpackUuids(row.skipped_ids), row.result.skipped, skippedKernel),
    },
    terminated: unpackUuids(row.terminated),
    error: row.error,
  }
}

/** Sweep records, kept compact: ids as 16 bytes each, what they share as run-length encoded runs. */
export class SweepRepository {
  constructor (private readonly db: Queryable) {}

  /** The same repository writing inside `tx`, so a record commits with what its sweep did. */
  within (tx: Queryable): SweepRepository {
    return new SweepRepository(tx)
  }

  async record (sweep: SweepRecord): Promise<void> {
    const successes = KernelTransitionRuns.of(sweep.result.successes)
    const failures = KernelTransitionRuns.of(sweep.result.failures)
    const { skipped } = sweep.result
    const runs: StoredRuns = {
      successes: successes.runs.map(storedRun),
      failures: failures.runs.map(storedRun),
      skipped: encodeRuns(skipped, skipKey, sameSkip),
    }
    await this.db.query(
      `INSERT INTO sweeps (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::jsonb, $13, $14)`,
      [
        sweep.sweepId, sweep.scalingGroup, sweep.handler, sweep.dryRun, sweep.forced, sweep.outcome,
        sweep.startedAt, sweep.finishedAt,
        packUuids(successes.kernelIds),
        packUuids(failures.kernelIds),
        packUuids(skipped.map((entry) => entry.kernelId)),
        JSON.stringify(runs),
        packUuids(sweep.terminated),
        sweep.error,
      ]
    )
  }

  async get (sweepId: string): Promise<SweepRecord | null> {
    const [row] = await this.db.query<SweepRow>(`SELECT ${COLUMNS} FROM sweeps WHERE id = $1`, [sweepId])
    return row === undefined ? null : recordOf(row)
  }

  /** Newest first. */
  async list (query: SweepListQuery): Promise<SweepRecord[]> {
    const rows = await this.db.query<SweepRow>(
      `SELECT ${COLUMNS} FROM sweeps WHERE ($1::text IS NULL OR scaling_group = $1)
       ORDER BY started_at DESC, id DESC LIMIT $2`,
      [query.scalingGroup ?? null, query.limit]
    )
    return rows.map(recordOf)
  }

  /** When the group's newest real (not dry-run) sweep of `handler` started, or null if there was none. */
  async lastStartedAt (scalingGroup: string, handler: string): Promise<Date | null> {
    const [row] = await this.db.query<{ started_at: Date }>(
      'SELECT started_at FROM sweeps WHERE scaling_group = $1 AND handler = $2 AND NOT dry_run ORDER BY started_at DESC LIMIT 1',
      [scalingGroup, handler]
    )
    return row?.started_at ?? null
  }

  /** Deletes records that finished before `cutoff`; returns how many. */
  async pruneFinishedBefore (cutoff: Date): Promise<number> {
    const rows = await this.db.query<{ id: string }>('DELETE FROM sweeps WHERE finished_at < $1 RETURNING id', [cutoff])
    return rows.length
  }
}
