import type { KernelId } from '../domain/kernel-info.js'
import type { KernelStatus } from '../domain/kernel-status.js'
import type { Queryable } from './database.js'

/** The reason written when a handler's failure carries none (as in the seed's coordinator). */
export const KERNEL_HANDLER_FAILURE_REASON = 'kernel_handler_failure'

export interface TerminationRequest {
  readonly kernelId: KernelId
  readonly reason: string | null
  /** The status the sweep read; the change applies only while the kernel still has it. */
  readonly expectedStatus: KernelStatus
}

export interface TransitionContext {
  readonly sweepId: string | null
}

/*
 * One statement, so one transaction: every kernel still in its expected status becomes
 * TERMINATED with one history row, and a kernel whose status moved meanwhile is left alone.
 * Set-based over unnest() arrays, so 10,000 kernels are one round trip.
 */
const TERMINATE_SQL = `
WITH input AS (
  SELECT DISTINCT ON (id) * FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, reason, expected_status)
), updated AS (
  UPDATE kernels k
  SET status = 'TERMINATED', status_info = input.reason,
      status_changed_at = now(), terminated_at = now(), updated_at = now()
  FROM input
  WHERE k.id = input.id AND k.status = input.expected_status
  RETURNING k.id, input.expected_status AS from_status, input.reason
), history AS (
  INSERT INTO kernel_status_history (kernel_id, from_status, to_status, reason, sweep_id, changed_at)
  SELECT id, from_status, 'TERMINATED', reason, $4::uuid, now() FROM updated
)
SELECT id FROM updated`

/** Owns the writes of kernel status transitions. */
export class KernelStateEngine {
  constructor (private readonly db: Queryable) {}

  /** Returns whether the kernel was terminated (false: gone, or no longer in `expectedStatus`). */
  async markKernelTerminated (
    kernelId: KernelId,
    reason: string | null,
    context: TransitionContext & { readonly expectedStatus: KernelStatus }
  ): Promise<boolean> {
    const changed = await this.markKernelsTerminated([{ kernelId, reason, expectedStatus: context.expectedStatus }], context)
    return changed.length === 1
  }

  /** Returns the ids actually terminated, in request order. */
  async markKernelsTerminated (requests: readonly TerminationRequest[], context: TransitionContext): Promise<KernelId[]> {
    if (requests.length === 0) return []
    const rows = await this.db.query<{ id: string }>(TERMINATE_SQL, [
      requests.map((request) => request.kernelId),
      requests.map((request) => request.reason ?? KERNEL_HANDLER_FAILURE_REASON),
      requests.map((request) => request.expectedStatus),
      context.sweepId,
    ])
    const changed = new Set(rows.map((row) => row.id))
    return [...new Set(requests.map((request) => request.kernelId))].filter((id) => changed.has(id))
  }
}
