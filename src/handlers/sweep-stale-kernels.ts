import type { KernelPages } from '../domain/kernel-pages.js'
import { KernelStatus } from '../domain/kernel-status.js'
import { LockID } from '../domain/lock-id.js'
import { EMPTY_RESULT, KernelTransitionRuns, type KernelExecutionResult, type KernelTransitionInfo } from '../domain/results.js'
import type { Logger } from '../logger.js'
import type { StaleKernelChecker } from '../terminator/stale-kernel-checker.js'
import type { KernelLifecycleHandler } from './kernel-lifecycle-handler.js'

export const STALE_KERNEL_REASON = 'STALE_KERNEL'
/** A suspect kernel whose agent stayed unreachable for longer than `AGENT_LOST_AFTER_SEC` (rule 13). */
export const AGENT_LOST_REASON = 'AGENT_LOST'

/** Finds RUNNING kernels that have died; the dead ones fail towards TERMINATED. */
export class SweepStaleKernelsKernelHandler implements KernelLifecycleHandler {
  readonly name = 'sweep-stale-kernels'
  readonly targetKernelStatuses = Object.freeze([KernelStatus.RUNNING])
  readonly statusTransitions = Object.freeze({ success: null, failure: KernelStatus.TERMINATED })
  readonly lockId = LockID.LOCKID_SOKOVAN_TARGET_TERMINATING
  readonly targetAgentId = null
  readonly requiresConfirmation = true

  constructor (
    private readonly terminator: StaleKernelChecker,
    private readonly logger: Logger
  ) {}

  async execute (scalingGroup: string, pages: KernelPages, signal?: AbortSignal): Promise<KernelExecutionResult> {
    if (await pages.isEmpty()) return EMPTY_RESULT

    const { deadKernelIds, lostKernelIds, skipped, reachability } = await this.terminator.checkStaleKernels(pages, signal)
    const reasons = new Map([
      ...deadKernelIds.map((id) => [id, STALE_KERNEL_REASON] as const),
      ...lostKernelIds.map((id) => [id, AGENT_LOST_REASON] as const),
    ])
    const kernels = await pages.all()
    // Nearly every kernel of a sweep is a success: ids, not an object each (the group's size is unbounded).
    const successes = new KernelTransitionRuns()
    const failures: KernelTransitionInfo[] = []
    for (const kernel of kernels) {
      const reason = reasons.get(kernel.id)
      if (reason !== undefined) {
        failures.push({ kernelId: kernel.id, fromStatus: kernel.status, reason })
      } else {
        successes.add(kernel.id, kernel.status, null)
      }
    }
    this.logger.debug(
      { scaling_group: scalingGroup, checked: kernels.length, stale: failures.length, skipped: skipped.length },
      'stale kernel check done'
    )
    return { successes, failures, skipped, agents: { ...reachability, decommissioned: [] } }
  }

  /** Schedule marking is the coordinator's (as in the seed); here the sweep's effect is reported. */
  async postProcess (result: KernelExecutionResult): Promise<void> {
    if (result.failures.length > 0) {
      this.logger.info(
        { kernel_ids: result.failures.map((failure) => failure.kernelId) },
        'swept %d stale kernel(s)', result.failures.length
      )
    }
  }
}
