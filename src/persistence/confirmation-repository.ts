import type { ConfirmationCount } from '../domain/confirmations.js'
import type { KernelId } from '../domain/kernel-info.js'
import type { Queryable } from './database.js'

// What is not carried forward by a sweep of the group is reset: the kernel was not a suspect, its
// agent said it runs, or its check was skipped (rule 11).
const RESET_SQL = 'DELETE FROM kernel_confirmations WHERE scaling_group = $1 AND NOT kernel_id = ANY($2::uuid[])'
const UPSERT_SQL = `
INSERT INTO kernel_confirmations (kernel_id, scaling_group, kernel_version, count)
SELECT id, $1, version, count FROM unnest($2::uuid[], $3::integer[], $4::integer[]) AS t(id, version, count)
ON CONFLICT (kernel_id) DO UPDATE SET
  scaling_group = excluded.scaling_group, kernel_version = excluded.kernel_version, count = excluded.count`

/** Confirmation counts (rule 11), kept in the database so a restart or another instance continues them. */
export class ConfirmationRepository {
  constructor (private readonly db: Queryable) {}

  /** The same repository writing inside `tx`, so counts commit with the sweep that made them. */
  within (tx: Queryable): ConfirmationRepository {
    return new ConfirmationRepository(tx)
  }

  async countsFor (kernelIds: readonly KernelId[]): Promise<Map<KernelId, Omit<ConfirmationCount, 'kernelId'>>> {
    if (kernelIds.length === 0) return new Map()
    const rows = await this.db.query<{ kernel_id: string, kernel_version: number, count: number }>(
      'SELECT kernel_id, kernel_version, count FROM kernel_confirmations WHERE kernel_id = ANY($1::uuid[])', [kernelIds]
    )
    return new Map(rows.map((row) => [row.kernel_id, { kernelVersion: row.kernel_version, count: row.count }]))
  }

  /** After a real sweep of the group: `counts` are what it leaves, every other count of the group is reset. */
  async replaceGroup (scalingGroup: string, counts: readonly ConfirmationCount[]): Promise<void> {
    const ids = counts.map((entry) => entry.kernelId)
    await this.db.query(RESET_SQL, [scalingGroup, ids])
    if (counts.length === 0) return
    await this.db.query(UPSERT_SQL, [scalingGroup, ids, counts.map((entry) => entry.kernelVersion), counts.map((entry) => entry.count)])
  }
}
