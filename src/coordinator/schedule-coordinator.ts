import { randomUUID } from 'node:crypto'
import { applyConfirmations, type ConfirmedResult } from '../domain/confirmations.js'
import { sweepSummaryOf } from '../domain/events.js'
import type { HandlerKernel } from '../domain/kernel-info.js'
import { EMPTY_RESULT, type KernelExecutionResult } from '../domain/results.js'
import { ScheduleType } from '../domain/schedule-type.js'
import { SweepOutcome, type SweepRecord } from '../domain/sweep.js'
import type { KernelLifecycleHandler } from '../handlers/kernel-lifecycle-handler.js'
import type { Logger } from '../logger.js'
import { logContext } from '../observability/log-context.js'
import type { Metrics } from '../observability/metrics.js'
import type { AgentRepository } from '../persistence/agent-repository.js'
import type { ConfirmationRepository } from '../persistence/confirmation-repository.js'
import type { Database, Queryable } from '../persistence/database.js'
import type { EventRepository } from '../persistence/event-repository.js'
import type { KernelRepository } from '../persistence/kernel-repository.js'
import type { KernelStateEngine } from '../persistence/kernel-state-engine.js'
import { LockBusyError, type LockFactory, type LockHandle } from '../persistence/locks/lock-factory.js'
import type { ScheduleMarkNeedRepository } from '../persistence/schedule-mark-need-repository.js'
import type { SweepRepository } from '../persistence/sweep-repository.js'
import { isExpectedFault, ShuttingDownError, SweepFailedError } from './errors.js'
import { evaluateMassTerminationGuard, type GuardSettings } from './mass-termination-guard.js'
import type { ScheduleMarker } from './schedule-marker.js'

export interface SweepOptions {
  readonly dryRun?: boolean
  readonly force?: boolean
  /** The API request that asked for the sweep: its lines carry the id, so a caller can follow it. */
  readonly requestId?: string
}

/** Who started a sweep, for the logs: a call to the API, or the background timer. */
type SweepTrigger = 'api' | 'background'

export interface ScheduleCoordinatorDeps {
  readonly kernels: Pick<KernelRepository, 'searchKernelsForHandler' | 'countKernels'>
  readonly agents: Pick<AgentRepository, 'within'>
  readonly stateEngine: Pick<KernelStateEngine, 'within'>
  readonly sweeps: Pick<SweepRepository, 'record' | 'lastStartedAt' | 'within'>
  readonly confirmations: Pick<ConfirmationRepository, 'countsFor' | 'within'>
  /** The event log (rule 15): every recorded sweep writes its events in its own transaction. */
  readonly events: Pick<EventRepository, 'within'>
  /** Schedule marks still to be set (rule 5), needed in the transaction of the terminations. */
  readonly scheduleMarkNeeds: Pick<ScheduleMarkNeedRepository, 'within'>
  /** Where handlers that take no lock write their transaction. */
  readonly db: Pick<Database, 'transaction'>
  readonly locks: LockFactory
  readonly scheduleMarker: ScheduleMarker
  readonly guard: GuardSettings
  /** How many sweeps in a row must find a kernel dead before it is terminated (`SWEEP_CONFIRMATIONS`). */
  readonly requiredConfirmations: number
  readonly lockLifetimeMs: number
  readonly logger: Logger
  readonly metrics: Metrics
}

/**
 * Runs a handler over a scaling group: lock → query → execute → confirm → guard → one fenced
 * transaction (confirmation counts, transitions, the need for the mark, record, events) → mark →
 * post-process → release. It owns every write; the handler only classifies.
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
    return this.track(this.locked(handler, scalingGroup, options, 'api', async () => true)) as Promise<SweepRecord>
  }

  /**
   * A background sweep, unless the group was swept less than `withinMs` ago: checked under the
   * lock, so instances sharing a database sweep each group once per period between them.
   */
  sweepIfDue (handler: KernelLifecycleHandler, scalingGroup: string, withinMs: number): Promise<SweepRecord | null> {
    return this.track(this.locked(handler, scalingGroup, {}, 'background', async () => {
      const last = await this.deps.sweeps.lastStartedAt(scalingGroup, handler.name)
      return last === null || Date.now() - last.getTime() >= withinMs
    }))
  }

  /** Lets running sweeps finish for up to `graceMs`, then stops those left before they write. */
  async close (graceMs: number): Promise<void> {
    const settled = Promise.allSettled([...this.running])
    let timer: NodeJS.Timeout | undefined
    await Promise.race([settled, new Promise((resolve) => { timer = setTimeout(resolve, graceMs) })])
    clearTimeout(timer)
    // Aborts the agent calls in flight too: a sweep stopped here fails before it writes.
    this.shutdown.abort(new ShuttingDownError('the service is shutting down; the sweep stopped before writing anything'))
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
    trigger: SweepTrigger,
    due: () => Promise<boolean>
  ): Promise<SweepRecord | null> {
    if (this.shutdown.signal.aborted) throw new ShuttingDownError('the service is shutting down')
    let lock: LockHandle | null = null
    if (handler.lockId !== null) {
      try {
        lock = await this.deps.locks.acquire(handler.lockId, scalingGroup, { lifetimeMs: this.deps.lockLifetimeMs })
      } catch (error) {
        if (error instanceof LockBusyError) this.deps.metrics.lockWasBusy(scalingGroup)
        throw error
      }
    }
    try {
      if (!await due()) return null
      const sweepId = randomUUID()
      const context = { sweep_id: sweepId, scaling_group: scalingGroup, trigger, ...(options.requestId === undefined ? {} : { request_id: options.requestId }) }
      return await logContext.run(context, () =>
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
    let kernelCount = 0
    let record: SweepRecord
    logger.info({ handler: handler.name, dry_run: base.dryRun, forced: base.forced }, 'sweep started')
    const pages = this.deps.kernels.searchKernelsForHandler(scalingGroup, handler.targetKernelStatuses, handler.targetAgentId)
    try {
      result = await handler.execute(scalingGroup, pages, this.shutdown.signal)
      // Whatever the handler did not read is read now: the transitions apply to the whole group.
      const kernels = await pages.all()
      kernelCount = kernels.length
      const confirmed = handler.requiresConfirmation ? await this.confirm(kernels, result) : null
      result = confirmed?.result ?? result
      // What the handler learned of agents is written with the sweep, not recorded in it.
      const { agents, ...decided } = result
      record = base.dryRun
        ? await this.recordDryRun({ ...base, result: decided })
        : await this.apply(handler, { ...base, result: decided }, { counts: confirmed?.counts ?? null, agents }, kernels, lock)
    } catch (error) {
      const failed: SweepRecord = {
        ...base, outcome: SweepOutcome.FAILED, finishedAt: new Date(), result, terminated: [], error: (error as Error).message,
      }
      this.deps.metrics.sweepFinished(failed)
      // One line, the cause said once: a store or the lock failing is expected and needs no stack.
      logger.error({
        handler: handler.name,
        outcome: failed.outcome,
        dry_run: base.dryRun,
        forced: base.forced,
        duration_ms: failed.finishedAt.getTime() - failed.startedAt.getTime(),
        error: failed.error,
        ...(isExpectedFault(error) ? {} : { stack: (error as Error).stack }),
      }, 'sweep failed')
      await this.recordWithEvents(failed).catch((recordError: unknown) => {
        logger.error({ err: recordError }, 'failed sweep could not be recorded')
      })
      throw new SweepFailedError(sweepId, error)
    } finally {
      await pages.close()
    }
    // Committed: what follows cannot undo the sweep, so its failures are logged, not answered.
    if (record.terminated.length > 0) await this.deps.scheduleMarker.markNeeded()
    if (record.outcome === SweepOutcome.COMPLETED) {
      const applied = new Set(record.terminated)
      await handler.postProcess({ ...result, failures: result.failures.filter((failure) => applied.has(failure.kernelId)) })
        .catch((error: unknown) => { logger.error({ err: error }, 'post-processing failed') })
    }
    this.deps.metrics.sweepFinished(record)
    logger.info({
      handler: handler.name,
      outcome: record.outcome,
      dry_run: base.dryRun,
      forced: base.forced,
      duration_ms: record.finishedAt.getTime() - record.startedAt.getTime(),
      kernels: kernelCount,
      failures: record.result.failures.length,
      terminated: record.terminated.length,
      skipped: result.skipped.length,
    }, 'sweep finished')
    return record
  }

  /** Rule 11: counts read from the database; with one confirmation required there is nothing to read. */
  private async confirm (kernels: readonly HandlerKernel[], result: KernelExecutionResult): Promise<ConfirmedResult> {
    const required = this.deps.requiredConfirmations
    if (required <= 1 || result.failures.length === 0) return { result, counts: [] }
    const previous = await this.deps.confirmations.countsFor(result.failures.map((failure) => failure.kernelId))
    return applyConfirmations(kernels, result, previous, required)
  }

  private async recordDryRun (sweep: Omit<SweepRecord, 'outcome' | 'finishedAt' | 'terminated' | 'error'>): Promise<SweepRecord> {
    const record: SweepRecord = { ...sweep, outcome: SweepOutcome.DRY_RUN, finishedAt: new Date(), terminated: [], error: null }
    await this.recordWithEvents(record)
    return record
  }

  /** A sweep that changed nothing (a dry run, a failure): its record and its `sweep.finished`, together. */
  private recordWithEvents (record: SweepRecord): Promise<void> {
    return this.deps.db.transaction(async (tx) => {
      await this.deps.sweeps.within(tx).record(record)
      await this.deps.events.within(tx).appendSweepEvents(sweepSummaryOf(record), [])
    })
  }

  /**
   * A real sweep's writes, in one transaction on the lock's own connection (rule 6): confirmation
   * counts, what was learned of the agents (rule 12), the terminations the guard allows with the
   * decommissioning they complete (rule 14) and the need for the mark (rule 5), the record, and its
   * events (rule 15), so a crash leaves all or none.
   */
  private async apply (
    handler: KernelLifecycleHandler,
    sweep: Omit<SweepRecord, 'outcome' | 'finishedAt' | 'terminated' | 'error'>,
    { counts, agents }: { counts: ConfirmedResult['counts'] | null, agents: KernelExecutionResult['agents'] },
    kernels: readonly HandlerKernel[],
    lock: LockHandle | null
  ): Promise<SweepRecord> {
    const { failures } = sweep.result
    // The guard weighs what would be terminated against the group, not against one agent's share.
    const running = handler.targetAgentId === null
      ? kernels.length
      : await this.deps.kernels.countKernels(sweep.scalingGroup, handler.targetKernelStatuses)
    const tripped = evaluateMassTerminationGuard(failures.length, running, this.deps.guard) === 'trip' && !sweep.forced
    if (tripped) this.deps.logger.warn({ confirmed_dead: failures.length, running }, 'mass-termination guard tripped: nothing terminated')
    // Rule 4: each termination applies only at the version this sweep read.
    const versions = new Map(failures.length === 0 ? [] : kernels.map((kernel) => [kernel.id, kernel.version]))
    // Nothing is written by a service on its way down.
    this.shutdown.signal.throwIfAborted()
    const write = async (tx: Queryable): Promise<SweepRecord> => {
      if (counts !== null) await this.deps.confirmations.within(tx).replaceGroup(sweep.scalingGroup, counts)
      if (agents !== undefined) {
        const agentsInTx = this.deps.agents.within(tx)
        await agentsInTx.recordReachability(agents)
        if (!tripped) await agentsInTx.markDecommissioned(agents.decommissioned)
      }
      const terminated = tripped
        ? []
        : await this.deps.stateEngine.within(tx).markKernelsTerminated(failures.map((failure) => ({
          kernelId: failure.kernelId, reason: failure.reason, fromStatus: failure.fromStatus, expectedVersion: versions.get(failure.kernelId)!,
        })), { sweepId: sweep.sweepId })
      if (terminated.length > 0) await this.deps.scheduleMarkNeeds.within(tx).need([ScheduleType.DETECT_KERNEL_TERMINATION])
      const record: SweepRecord = {
        ...sweep, outcome: tripped ? SweepOutcome.GUARD_TRIPPED : SweepOutcome.COMPLETED, finishedAt: new Date(), terminated, error: null,
      }
      await this.deps.sweeps.within(tx).record(record)
      // Last: the events take the event log's id counter, held by this transaction until it commits.
      await this.deps.events.within(tx).appendSweepEvents(sweepSummaryOf(record), tripped ? [] : agents?.decommissioned ?? [])
      return record
    }
    return lock === null ? this.deps.db.transaction(write) : lock.transaction(write)
  }
}
