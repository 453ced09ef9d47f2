import type { KernelId } from '../domain/kernel-info.js'
import type { KernelStatus } from '../domain/kernel-status.js'
import type { Queryable } from './database.js'

/** The reason written when a handler's failure carries none (as in the seed's coordinator). */
export const KERNEL_HANDLER_FAILURE_REASON = 'kernel_handler_failure'

export interface TerminationRequest {
  readonly kernelId: KernelId
  readonly reason: string | null
  /** The status the sweep read, written to the history row. */
  readonly fromStatus: KernelStatus
  /** The version the sweep read: the change applies only while the kernel is still at it (rule 4). */
  readonly expectedVersion: number
}

export interface TransitionContext {
  readonly sweepId: string | null
}

/*
 * One statement, so one transaction: every kernel still at the version (and status) the sweep read
 * becomes TERMINATED at the next version, with one history row; a kernel changed in any way
 * meanwhile — restarted, moved to another agent, even back to RUNNING — is left alone. A row a
 * concurrent writer holds is waited for and then checked again at its new version. Set-based over
 * unnest() arrays, so 10,000 kernels are one round trip.
 */
const TERMINATE_SQL = `
WITH input AS (
  SELECT DISTINCT ON (id) * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::integer[])
    AS t(id, reason, from_status, expected_version)
), updated AS (
  UPDATE kernels k
  SET status = 'TERMINATED', status_info = input.reason, version = k.version + 1,
      status_changed_at = now(), terminated_at = now(), updated_at = now()
  FROM input
  WHERE k.id = input.id AND k.version = input.expected_version AND k.status = input.from_status
  RETURNING k.id, input.from_status, input.reason
), history AS (
  INSERT INTO kernel_status_history (kernel_id, from_status, to_status, reason, sweep_id, changed_at)
  SELECT id, from_status, 'TERMINATED', reason, $5::uuid, now() FROM updated
)
SELECT id FROM updated`

/** Owns the writes of kernel status transitions. */
export class KernelStateEngine {
  constructor (private readonly db: Queryable) {}

  /** The same engine writing inside `tx`, so transitions commit with whatever else `tx` holds. */
  within (tx: Queryable): KernelStateEngine {
    return new KernelStateEngine(tx)
  }

  /** Returns whether the kernel was terminated (false: gone, or changed since it was read). */
  async markKernelTerminated (request: TerminationRequest, context: TransitionContext): Promise<boolean> {
    const changed = await this.markKernelsTerminated([request], context)
    return changed.length === 1
  }

  /** Returns the ids actually terminated, in request order. */
  async markKernelsTerminated (requests: readonly TerminationRequest[], context: TransitionContext): Promise<KernelId[]> {
    if (requests.length === 0) return []
    const rows = await this.db.query<{ id: string }>(TERMINATE_SQL, [
      requests.map((request) => request.kernelId),
      requests.map((request) => request.reason ?? KERNEL_HANDLER_FAILURE_REASON),
      requests.map((request) => request.fromStatus),
      requests.map((request) => request.expectedVersion),
      context.sweepId,
    ])
    const changed = new Set(rows.map((row) => row.id))
    return [...new Set(requests.map((request) => request.kernelId))].filter((id) => changed.has(id))
  }
}
