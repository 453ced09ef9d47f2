import type { KernelId } from '../domain/kernel-info.js'
import type { KernelStatusChange } from '../domain/kernel-record.js'
import type { KernelStatus } from '../domain/kernel-status.js'
import type { Queryable } from './database.js'

interface HistoryRow {
  kernel_id: string
  from_status: KernelStatus
  to_status: KernelStatus
  reason: string | null
  sweep_id: string | null
  changed_at: Date
}

export class KernelHistoryRepository {
  constructor (private readonly db: Queryable) {}

  /** A kernel's status changes, oldest first. */
  async listForKernel (kernelId: KernelId): Promise<KernelStatusChange[]> {
    const rows = await this.db.query<HistoryRow>(
      `SELECT kernel_id, from_status, to_status, reason, sweep_id, changed_at
       FROM kernel_status_history WHERE kernel_id = $1 ORDER BY id`,
      [kernelId]
    )
    return rows.map((row) => ({
      kernelId: row.kernel_id,
      fromStatus: row.from_status,
      toStatus: row.to_status,
      reason: row.reason,
      sweepId: row.sweep_id,
      changedAt: row.changed_at,
    }))
  }
}
