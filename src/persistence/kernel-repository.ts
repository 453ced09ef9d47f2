import type { KernelId, KernelInfo } from '../domain/kernel-info.js'
import type { KernelRecord } from '../domain/kernel-record.js'
import type { KernelStatus } from '../domain/kernel-status.js'
import type { Database } from './database.js'

/** Most kernels one bulk upsert takes (contract §3). */
export const MAX_BULK_KERNELS = 10_000

export class BulkUpsertError extends Error {
  override readonly name = 'BulkUpsertError'
}

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError'
}

export interface KernelListQuery {
  readonly scalingGroup?: string
  readonly status?: KernelStatus
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
}

const RECORD_COLUMNS = 'id, session_id, scaling_group, agent_id, status, status_info, status_changed_at, terminated_at, created_at'

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
  }
}

// The cursor is the last id of a page, wrapped so clients treat it as opaque.
function encodeCursor (id: KernelId): string {
  return Buffer.from(id, 'utf8').toString('base64url')
}

function decodeCursor (cursor: string): KernelId {
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new InvalidCursorError('cursor is not one this service issued')
  }
  return id
}

// Taken before the upsert, in id order (so two bulk upserts cannot deadlock), and held to commit:
// the old statuses the upsert reads then stay the ones it replaces.
const LOCK_EXISTING_SQL = 'SELECT 1 FROM kernels WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE'

/*
 * Creates or replaces every kernel given. A kernel whose status changes gets a history row (no
 * sweep, no reason), a fresh status_changed_at, and terminated_at set only when it becomes
 * TERMINATED; a new kernel gets no history row. `previous` reads the statement's snapshot, which
 * the upsert's own changes do not touch.
 */
const UPSERT_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])
    AS t(id, session_id, scaling_group, agent_id, status)
), previous AS (
  SELECT k.id, k.status FROM kernels k JOIN input USING (id)
), upserted AS (
  INSERT INTO kernels AS k (id, session_id, scaling_group, agent_id, status, terminated_at)
  SELECT id, session_id, scaling_group, agent_id, status,
         CASE WHEN status = 'TERMINATED' THEN now() END
  FROM input
  ON CONFLICT (id) DO UPDATE SET
    session_id = excluded.session_id,
    scaling_group = excluded.scaling_group,
    agent_id = excluded.agent_id,
    status = excluded.status,
    status_info = CASE WHEN k.status = excluded.status THEN k.status_info END,
    status_changed_at = CASE WHEN k.status = excluded.status THEN k.status_changed_at ELSE now() END,
    terminated_at = CASE WHEN k.status = excluded.status THEN k.terminated_at ELSE excluded.terminated_at END,
    updated_at = now()
  RETURNING k.*
), history AS (
  INSERT INTO kernel_status_history (kernel_id, from_status, to_status)
  SELECT u.id, p.status, u.status FROM upserted u JOIN previous p USING (id)
  WHERE p.status <> u.status
)
SELECT ${RECORD_COLUMNS} FROM upserted`

export class KernelRepository {
  constructor (private readonly db: Database) {}

  /**
   * The kernels a handler works on, in id order. Only the columns a handler needs are read, from
   * a covering index, so 100,000 kernels cost one index scan and nothing more.
   */
  async searchKernelsForHandler (scalingGroup: string, statuses: readonly KernelStatus[]): Promise<KernelInfo[]> {
    const rows = await this.db.query<Pick<KernelRow, 'id' | 'session_id' | 'agent_id' | 'status'>>(
      `SELECT id, session_id, agent_id, status FROM kernels
       WHERE scaling_group = $1 AND status = ANY($2::text[]) ORDER BY id`,
      [scalingGroup, statuses]
    )
    return rows.map((row) => ({
      id: row.id, sessionId: row.session_id, agentId: row.agent_id, scalingGroup, status: row.status,
    }))
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
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor)
    const rows = await this.db.query<KernelRow>(
      `SELECT ${RECORD_COLUMNS} FROM kernels
       WHERE ($1::text IS NULL OR scaling_group = $1)
         AND ($2::text IS NULL OR status = $2)
         AND ($3::uuid IS NULL OR id > $3)
       ORDER BY id LIMIT $4`,
      [query.scalingGroup ?? null, query.status ?? null, after, query.limit + 1]
    )
    const items = rows.slice(0, query.limit).map(recordOf)
    const last = items.at(-1)
    return { items, nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last.id) : null }
  }

  async upsert (kernel: KernelInfo): Promise<KernelRecord> {
    const [record] = await this.upsertMany([kernel])
    return record!
  }

  /** Creates or replaces up to `MAX_BULK_KERNELS` kernels in one transaction: all or nothing. */
  async upsertMany (kernels: readonly KernelInfo[]): Promise<KernelRecord[]> {
    if (kernels.length > MAX_BULK_KERNELS) {
      throw new BulkUpsertError(`at most ${MAX_BULK_KERNELS} kernels per request, got ${kernels.length}`)
    }
    const ids = kernels.map((kernel) => kernel.id)
    if (new Set(ids).size !== ids.length) throw new BulkUpsertError('a kernel id appears more than once')
    const rows = await this.db.transaction(async (tx) => {
      await tx.query(LOCK_EXISTING_SQL, [ids])
      return tx.query<KernelRow>(UPSERT_SQL, [
        ids,
        kernels.map((kernel) => kernel.sessionId),
        kernels.map((kernel) => kernel.scalingGroup),
        kernels.map((kernel) => kernel.agentId),
        kernels.map((kernel) => kernel.status),
      ])
    })
    return rows.map(recordOf)
  }
}
