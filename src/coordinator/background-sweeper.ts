import { KernelStatus } from '../domain/kernel-status.js'
import type { KernelLifecycleHandler } from '../handlers/kernel-lifecycle-handler.js'
import type { Logger } from '../logger.js'
import { LockBusyError } from '../persistence/locks/lock-factory.js'
import type { Metrics } from '../observability/metrics.js'
import type { KernelRepository } from '../persistence/kernel-repository.js'
import type { ScheduleCoordinator } from './schedule-coordinator.js'
import { SweepFailedError } from './errors.js'

export interface BackgroundSweepOptions {
  readonly coordinator: ScheduleCoordinator
  readonly handler: KernelLifecycleHandler
  readonly kernels: Pick<KernelRepository, 'scalingGroupsWith'>
  readonly metrics: Pick<Metrics, 'sweepingGroups'>
  readonly intervalMs: number
  readonly logger: Logger
}

/**
 * One background pass: sweeps every scaling group that has RUNNING kernels. A group another
 * instance is sweeping is skipped quietly; a group swept by anyone within most of the interval
 * is not swept again, so instances sharing a database sweep each group once per period.
 */
export function backgroundSweep (options: BackgroundSweepOptions): (signal: AbortSignal) => Promise<void> {
  const { coordinator, handler, kernels, metrics, intervalMs, logger } = options
  // Timers drift between instances; a group swept in the last 80 % of a period counts as swept.
  const dueAfterMs = intervalMs * 0.8
  return async (signal) => {
    const groups = await kernels.scalingGroupsWith([KernelStatus.RUNNING])
    metrics.sweepingGroups(groups)
    for (const group of groups) {
      if (signal.aborted) return
      await coordinator.sweepIfDue(handler, group, dueAfterMs).catch((error: unknown) => {
        if (error instanceof LockBusyError) logger.debug({ scaling_group: group }, 'group busy; skipped this tick')
        // A sweep that ran and failed has been logged by the coordinator, with its cause.
        else if (!(error instanceof SweepFailedError)) logger.warn({ err: error, scaling_group: group }, 'background sweep failed')
      })
    }
  }
}

/**
 * Deletes what is older than `retentionMs` (sweep records, events) with `prune`, which is given
 * the cut-off and answers how many it deleted.
 */
export function pruneOlderThan (what: string, prune: (before: Date) => Promise<number>, retentionMs: number, logger: Logger): () => Promise<void> {
  return async () => {
    const pruned = await prune(new Date(Date.now() - retentionMs))
    if (pruned > 0) logger.info({ pruned }, `old ${what} pruned`)
  }
}
