import { randomUUID } from 'node:crypto'
import { EMPTY_RESULT, type KernelExecutionResult } from '../domain/results.js'
import { ScheduleType } from '../domain/schedule-type.js'
import { SweepOutcome, type SweepRecord } from '../domain/sweep.js'
import type { KernelLifecycleHandler } from '../handlers/kernel-lifecycle-handler.js'
import type { Logger } from '../logger.js'
import { logContext } from '../observability/log-context.js'
import type { Metrics } from '../observability/metrics.js'
import type { KernelRepository } from '../persistence/kernel-repository.js'
import type { KernelStateEngine } from '../persistence/kernel-state-engine.js'
import { LockBusyError, type LockFactory, type LockHandle } from '../persistence/locks/lock-factory.js'
import type { SweepRepository } from '../persistence/sweep-repository.js'
import { LockExpiredError, ShuttingDownError, SweepFailedError } from './errors.js'
import { evaluateMassTerminationGuard, type GuardSettings } from './mass-termination-guard.js'
import type { ScheduleMarker } from './schedule-marker.js'

export interface SweepOptions {
  readonly dryRun?: boolean
  readonly force?: boolean
}

export interface ScheduleCoordinatorDeps {
  readonly kernels: Pick<KernelRepository, 'searchKernelsForHandler'>
  readonly stateEngine: Pick<KernelStateEngine, 'markKernelsTerminated'>
  readonly sweeps: Pick<SweepRepository, 'record' | 'lastStartedAt'>
  readonly locks: LockFactory
  readonly scheduleMarker: ScheduleMarker
  readonly guard: GuardSettings
  readonly lockLifetimeMs: number
  readonly logger: Logger
  readonly metrics: Metrics
}

/**
 * Runs a handler over a scaling group: lock → query → execute → guard → transition →
 * post-process → record → release. It owns every write; the handler only classifies.
 */
export class ScheduleCoordinator {
  private readonly running = new Set<Promise<unknown>>()
  private readonly shutdown = new AbortController()

  constructor (private readonly deps: ScheduleCoordinatorDeps) {}

  /**
   * One sweep (contract §2). Throws `LockBusyError` when the group is being swept, and
   * `SweepFailedError` (recorded, with the cause) when the sweep could not finish.
   */
  processKernelSchedule (handler: KernelLifecycleHandler, scalingGroup: string, options: SweepOptions = {}): Promise<SweepRecord> {
    return this.track(this.locked(handler, scalingGroup, options, async () => true)) as Promise<SweepRecord>
  }

  /**
   * A background sweep, unless the group was swept less than `withinMs` ago: checked under the
   * lock, so instances sharing a database sweep each group once per period between them.
   */
  sweepIfDue (handler: KernelLifecycleHandler, scalingGroup: string, withinMs: number): Promise<SweepRecord | null> {
    return this.track(this.locked(handler, scalingGroup, {}, async () => {
      const last = await this.deps.sweeps.lastStartedAt(scalingGroup)
      return last === null || Date.now() - last.getTime() >= withinMs
    }))
  }

  /** Lets running sweeps finish for up to `graceMs`, then stops those left before they write. */
  async close (graceMs: number): Promise<void> {
    const settled = Promise.allSettled([...this.running])
    let timer: NodeJS.Timeout | undefined
    await Promise.race([settled, new Promise((resolve) => { timer = setTimeout(resolve, graceMs) })])
    clearTimeout(timer)
    this.shutdown.abort()
    await settled
    await this.deps.scheduleMarker.close()
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work)
    work.finally(() => this.running.delete(work)).catch(() => {})
    return work
  }

  private async locked (
    handler: KernelLifecycleHandler,
    scalingGroup: string,
    options: SweepOptions,
    due: () => Promise<boolean>
  ): Promise<SweepRecord | null> {
    if (this.shutdown.signal.aborted) throw new ShuttingDownError('the service is shutting down')
    let lock: LockHandle | null = null
    if (handler.lockId !== null) {
      try {
        lock = await this.deps.locks.acquire(handler.lockId, scalingGroup, { lifetimeMs: this.deps.lockLifetimeMs })
      } catch (error) {
        if (error instanceof LockBusyError) this.deps.metrics.lockBusy.inc({ scaling_group: scalingGroup })
        throw error
      }
    }
    try {
      if (!await due()) return null
      const sweepId = randomUUID()
      return await logContext.run({ sweep_id: sweepId, scaling_group: scalingGroup }, () =>
        this.sweep(sweepId, handler, scalingGroup, options, lock))
    } finally {
      await lock?.release()
    }
  }

  private async sweep (
    sweepId: string,
    handler: KernelLifecycleHandler,
    scalingGroup: string,
    options: SweepOptions,
    lock: LockHandle | null
  ): Promise<SweepRecord> {
    const { logger } = this.deps
    const base = {
      sweepId,
      scalingGroup,
      handler: handler.name,
      dryRun: options.dryRun === true,
      forced: options.force === true,
      startedAt: new Date(),
    }
    let result = EMPTY_RESULT
    try {
      const kernels = await this.deps.kernels.searchKernelsForHandler(scalingGroup, handler.targetKernelStatuses)
      result = await handler.execute(scalingGroup, kernels)
      const { outcome, terminated } = await this.apply(result, kernels.length, base, lock)
      const record: SweepRecord = { ...base, outcome, finishedAt: new Date(), result, terminated, error: null }
      if (terminated.length > 0) {
        await this.deps.scheduleMarker.mark([ScheduleType.DETECT_KERNEL_TERMINATION])
      }
      if (outcome === SweepOutcome.COMPLETED) {
        const applied = new Set(terminated)
        await handler.postProcess({ ...result, failures: result.failures.filter((failure) => applied.has(failure.kernelId)) })
      }
      await this.deps.sweeps.record(record)
      this.deps.metrics.sweepFinished(record)
      logger.info({ outcome, kernels: kernels.length, terminated: terminated.length, skipped: result.skipped.length }, 'sweep finished')
      return record
    } catch (error) {
      const record: SweepRecord = {
        ...base, outcome: SweepOutcome.FAILED, finishedAt: new Date(), result, terminated: [], error: (error as Error).message,
      }
      this.deps.metrics.sweepFinished(record)
      logger.error({ err: error }, 'sweep failed')
      await this.deps.sweeps.record(record).catch((recordError: unknown) => {
        logger.error({ err: recordError }, 'failed sweep could not be recorded')
      })
      throw new SweepFailedError(sweepId, error)
    }
  }

  /** Decides what the handler's result does to the database, and does it. */
  private async apply (
    result: KernelExecutionResult,
    running: number,
    sweep: { sweepId: string, dryRun: boolean, forced: boolean },
    lock: LockHandle | null
  ): Promise<{ outcome: SweepOutcome, terminated: readonly string[] }> {
    if (sweep.dryRun) return { outcome: SweepOutcome.DRY_RUN, terminated: [] }
    const decision = evaluateMassTerminationGuard(result.failures.length, running, this.deps.guard)
    if (decision === 'trip' && !sweep.forced) {
      this.deps.logger.warn({ confirmed_dead: result.failures.length, running }, 'mass-termination guard tripped: nothing terminated')
      return { outcome: SweepOutcome.GUARD_TRIPPED, terminated: [] }
    }
    // Last checks before the only write: nothing is written by a sweep that lost its lock or
    // by a service on its way down.
    if (lock !== null && !lock.stillValid()) throw new LockExpiredError('the sweep outlived its lock; nothing was written')
    if (this.shutdown.signal.aborted) throw new ShuttingDownError('the service is shutting down; nothing was written')
    const terminated = await this.deps.stateEngine.markKernelsTerminated(
      result.failures.map((failure) => ({ kernelId: failure.kernelId, reason: failure.reason, expectedStatus: failure.fromStatus })),
      { sweepId: sweep.sweepId }
    )
    return { outcome: SweepOutcome.COMPLETED, terminated }
  }
}
