import type { AgentId, HandlerKernel, KernelId, KernelSpec } from '../domain/kernel-info.js'
import { KernelPages } from '../domain/kernel-pages.js'
import type { KernelRecord } from '../domain/kernel-record.js'
import { FINAL_KERNEL_STATUSES, type KernelStatus } from '../domain/kernel-status.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import type { Database, Queryable } from './database.js'

/** Most kernels one bulk upsert takes (contract §3). */
export const MAX_BULK_KERNELS = 10_000

export class BulkUpsertError extends Error {
  override readonly name = 'BulkUpsertError'
}

/** A kernel is missing or not at the version a request expects: nothing was written. */
export class PreconditionFailedError extends Error {
  override readonly name = 'PreconditionFailedError'
}

/**
 * A kernel to create or replace. With `expectedVersions` it is only replaced, and only while it is
 * at one of those versions (`'exists'`: at any); otherwise the whole request fails.
 */
export interface KernelUpsertRequest extends KernelSpec {
  readonly expectedVersions?: readonly number[] | 'exists'
}

export interface KernelListQuery {
  readonly scalingGroup?: string
  readonly status?: KernelStatus
  readonly agentId?: AgentId
  readonly limit: number
  readonly cursor?: string
}

export interface KernelPage {
  readonly items: readonly KernelRecord[]
  readonly nextCursor: string | null
}

interface KernelRow {
  id: string
  session_id: string
  scaling_group: string
  agent_id: string | null
  status: KernelStatus
  status_info: string | null
  status_changed_at: Date
  terminated_at: Date | null
  created_at: Date
  version: number
}

const RECORD_COLUMNS = 'id, session_id, scaling_group, agent_id, status, status_info, status_changed_at, terminated_at, created_at, version'

function recordOf (row: KernelRow): KernelRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    scalingGroup: row.scaling_group,
    agentId: row.agent_id,
    status: row.status,
    statusInfo: row.status_info,
    statusChangedAt: row.status_changed_at,
    terminatedAt: row.terminated_at,
    createdAt: row.created_at,
    version: row.version,
  }
}

const isKernelId = (id: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)

/**
 * Creates the kernels that do not exist yet, in id order so concurrent creators cannot deadlock.
 * A kernel another transaction is creating at the same moment is waited for, then left to it: it
 * is then an existing kernel for this request, updated under its row lock (so its history row is
 * never lost). Entries with a precondition are never created: a missing kernel fails it.
 */
const CREATE_SQL = `
INSERT INTO kernels (id, session_id, scaling_group, agent_id, status, terminated_at)
SELECT id, session_id, scaling_group, agent_id, status, CASE WHEN status = 'TERMINATED' THEN now() END
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::boolean[])
  AS t(id, session_id, scaling_group, agent_id, status, conditional)
WHERE NOT conditional
ORDER BY id
ON CONFLICT (id) DO NOTHING
RETURNING id`

// Locks the kernels that existed, in id order, and reads them as they are now: each statement of a
// READ COMMITTED transaction sees what committed before it, and FOR UPDATE waits for writers.
const LOCK_EXISTING_SQL = `
SELECT id, status, version FROM kernels
WHERE id = ANY($1::uuid[]) AND NOT id = ANY($2::uuid[])
ORDER BY id FOR UPDATE`

/*
 * Replaces the locked kernels whose fields differ: version + 1, and for a status change a fresh
 * status_changed_at, terminated_at set only when it becomes TERMINATED, and one history row (no
 * sweep, no reason) from the status read under the lock. A kernel given as it is stays untouched.
 */
const UPDATE_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
    AS t(id, session_id, scaling_group, agent_id, status, old_status)
), updated AS (
  UPDATE kernels k SET
    session_id = input.session_id,
    scaling_group = input.scaling_group,
    agent_id = input.agent_id,
    status = input.status,
    status_info = CASE WHEN k.status = input.status THEN k.status_info END,
    status_changed_at = CASE WHEN k.status = input.status THEN k.status_changed_at ELSE now() END,
    terminated_at = CASE WHEN k.status = input.status THEN k.terminated_at WHEN input.status = 'TERMINATED' THEN now() END,
    version = k.version + 1,
    updated_at = now()
  FROM input
  WHERE k.id = input.id
    AND (k.session_id, k.scaling_group, k.agent_id, k.status)
        IS DISTINCT FROM (input.session_id, input.scaling_group, input.agent_id, input.status)
  RETURNING k.id
)
INSERT INTO kernel_status_history (kernel_id, from_status, to_status)
SELECT input.id, input.old_status, input.status FROM input JOIN updated USING (id)
WHERE input.old_status <> input.status`

/**
 * Kernels per page of a handler's read. Small enough that stage 1 starts on the first page after a
 * few milliseconds; large enough that the round trip per page is lost in the rows it carries.
 */
const HANDLER_PAGE_KERNELS = 5_000

export class KernelRepository {
  constructor (private readonly db: Database) {}

  /**
   * The kernels a handler works on, in id order, a page at a time: a sweep checks the first pages
   * while the rest is read. Only the columns a handler needs are read, from a covering index, so
   * 100,000 kernels cost one index scan and nothing more. The columns are named as HandlerKernel's
   * fields, so each row is its kernel's HandlerKernel: a sweep holds every kernel of the group
   * until it is recorded, as one object each rather than two.
   */
  searchKernelsForHandler (scalingGroup: string, statuses: readonly KernelStatus[], agentId: AgentId | null = null): KernelPages {
    return new KernelPages(this.db.pages<HandlerKernel>(
      `SELECT id, agent_id AS "agentId", status, version FROM kernels
       WHERE scaling_group = $1 AND status = ANY($2::text[]) AND ($3::text IS NULL OR agent_id = $3) ORDER BY id`,
      [scalingGroup, statuses, agentId],
      HANDLER_PAGE_KERNELS
    ))
  }

  /** How many kernels of the group are in one of `statuses` (the guard's whole, rule 8). */
  async countKernels (scalingGroup: string, statuses: readonly KernelStatus[]): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM kernels WHERE scaling_group = $1 AND status = ANY($2::text[])', [scalingGroup, statuses]
    )
    return row?.n ?? 0
  }

  /**
   * Reverse reconciliation (contract §3), read-only: of the kernels `agentId` says it runs, those it
   * should stop (unknown here, final, or assigned to another agent), and its own non-final kernels
   * it did not list.
   */
  async reconcile (agentId: AgentId, running: readonly KernelId[]): Promise<{ orphans: KernelId[], missing: KernelId[] }> {
    const orphans = await this.db.query<{ id: string }>(
      `SELECT listed.id::text AS id FROM unnest($1::uuid[]) WITH ORDINALITY AS listed(id, position)
       LEFT JOIN kernels k ON k.id = listed.id
       WHERE k.id IS NULL OR k.status = ANY($3::text[]) OR k.agent_id IS DISTINCT FROM $2
       ORDER BY listed.position`,
      [running, agentId, FINAL_KERNEL_STATUSES]
    )
    const missing = await this.db.query<{ id: string }>(
      'SELECT id FROM kernels WHERE agent_id = $1 AND NOT status = ANY($3::text[]) AND NOT id = ANY($2::uuid[]) ORDER BY id',
      [agentId, running, FINAL_KERNEL_STATUSES]
    )
    return { orphans: orphans.map((row) => row.id), missing: missing.map((row) => row.id) }
  }

  /** Scaling groups that have at least one kernel in one of `statuses`. */
  async scalingGroupsWith (statuses: readonly KernelStatus[]): Promise<string[]> {
    const rows = await this.db.query<{ scaling_group: string }>(
      'SELECT DISTINCT scaling_group FROM kernels WHERE status = ANY($1::text[]) ORDER BY scaling_group',
      [statuses]
    )
    return rows.map((row) => row.scaling_group)
  }

  async get (kernelId: KernelId): Promise<KernelRecord | null> {
    const [row] = await this.db.query<KernelRow>(`SELECT ${RECORD_COLUMNS} FROM kernels WHERE id = $1`, [kernelId])
    return row === undefined ? null : recordOf(row)
  }

  /** A page in id order; `nextCursor` is null on the last page. */
  async list (query: KernelListQuery): Promise<KernelPage> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor, isKernelId)
    const rows = await this.db.query<KernelRow>(
      `SELECT ${RECORD_COLUMNS} FROM kernels
       WHERE ($1::text IS NULL OR scaling_group = $1)
         AND ($2::text IS NULL OR status = $2)
         AND ($3::uuid IS NULL OR id > $3)
         AND ($5::text IS NULL OR agent_id = $5)
       ORDER BY id LIMIT $4`,
      [query.scalingGroup ?? null, query.status ?? null, after, query.limit + 1, query.agentId ?? null]
    )
    const items = rows.slice(0, query.limit).map(recordOf)
    const last = items.at(-1)
    return { items, nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last.id) : null }
  }

  /** Creates or replaces one kernel; answers it as stored. */
  async upsert (kernel: KernelUpsertRequest): Promise<KernelRecord> {
    return this.db.transaction(async (tx) => {
      await this.write(tx, [kernel])
      const [row] = await tx.query<KernelRow>(`SELECT ${RECORD_COLUMNS} FROM kernels WHERE id = $1`, [kernel.id])
      return recordOf(row!)
    })
  }

  /**
   * Creates or replaces up to `MAX_BULK_KERNELS` kernels in one transaction: all or nothing, also
   * when one precondition fails (`PreconditionFailedError`). Returns how many were given.
   */
  async upsertMany (kernels: readonly KernelUpsertRequest[]): Promise<number> {
    if (kernels.length > MAX_BULK_KERNELS) {
      throw new BulkUpsertError(`at most ${MAX_BULK_KERNELS} kernels per request, got ${kernels.length}`)
    }
    await this.db.transaction((tx) => this.write(tx, kernels))
    return kernels.length
  }

  private async write (tx: Queryable, kernels: readonly KernelUpsertRequest[]): Promise<void> {
    const ids = kernels.map((kernel) => kernel.id)
    if (new Set(ids).size !== ids.length) throw new BulkUpsertError('a kernel id appears more than once')
    const column = <T>(pick: (kernel: KernelUpsertRequest) => T): T[] => kernels.map(pick)
    const created = (await tx.query<{ id: string }>(CREATE_SQL, [
      ids, column((k) => k.sessionId), column((k) => k.scalingGroup), column((k) => k.agentId), column((k) => k.status),
      column((k) => k.expectedVersions !== undefined),
    ])).map((row) => row.id)
    const existing = new Map((await tx.query<{ id: string, status: KernelStatus, version: number }>(
      LOCK_EXISTING_SQL, [ids, created]
    )).map((row) => [row.id, row]))
    for (const kernel of kernels) {
      if (kernel.expectedVersions === undefined) continue
      const current = existing.get(kernel.id)
      if (current === undefined) throw new PreconditionFailedError(`kernel ${kernel.id} does not exist`)
      if (kernel.expectedVersions !== 'exists' && !kernel.expectedVersions.includes(current.version)) {
        throw new PreconditionFailedError(`kernel ${kernel.id} is at version ${current.version}, not ${kernel.expectedVersions.join(' or ')}`)
      }
    }
    const replaced = kernels.filter((kernel) => existing.has(kernel.id))
    if (replaced.length === 0) return
    const pick = <T>(get: (kernel: KernelUpsertRequest) => T): T[] => replaced.map(get)
    await tx.query(UPDATE_SQL, [
      pick((k) => k.id), pick((k) => k.sessionId), pick((k) => k.scalingGroup), pick((k) => k.agentId), pick((k) => k.status),
      pick((k) => existing.get(k.id)!.status),
    ])
  }
}
