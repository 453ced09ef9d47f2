import type { AgentId } from '../domain/kernel-info.js'
import type { KernelPages } from '../domain/kernel-pages.js'
import { KernelStatus, NON_FINAL_KERNEL_STATUSES } from '../domain/kernel-status.js'
import { LockID } from '../domain/lock-id.js'
import type { KernelExecutionResult } from '../domain/results.js'
import type { Logger } from '../logger.js'
import type { KernelLifecycleHandler } from './kernel-lifecycle-handler.js'

export const AGENT_DECOMMISSIONED_REASON = 'AGENT_DECOMMISSIONED'

/**
 * Rule 14: an operator takes a node out for good. Every kernel of the agent that is not in a final
 * status fails towards TERMINATED, each from its own status; neither presence nor any agent is
 * consulted. When the sweep completes, the agent is decommissioned: never asked again until it is
 * registered anew. Runs through the coordinator like any sweep, under its group's lock.
 */
export class DecommissionAgentHandler implements KernelLifecycleHandler {
  readonly name = 'decommission-agent'
  readonly targetKernelStatuses = NON_FINAL_KERNEL_STATUSES
  readonly statusTransitions = Object.freeze({ success: null, failure: KernelStatus.TERMINATED })
  readonly lockId = LockID.LOCKID_SOKOVAN_TARGET_TERMINATING
  readonly requiresConfirmation = false

  constructor (readonly targetAgentId: AgentId, private readonly logger: Logger) {}

  async execute (_scalingGroup: string, kernels: KernelPages): Promise<KernelExecutionResult> {
    return {
      successes: [],
      failures: (await kernels.all()).map((kernel) => ({ kernelId: kernel.id, fromStatus: kernel.status, reason: AGENT_DECOMMISSIONED_REASON })),
      skipped: [],
      agents: { reached: [], unreachable: [], decommissioned: [this.targetAgentId] },
    }
  }

  async postProcess (result: KernelExecutionResult): Promise<void> {
    this.logger.info(
      { agent_id: this.targetAgentId, kernel_ids: result.failures.map((failure) => failure.kernelId) },
      'agent %s decommissioned; %d kernel(s) terminated', this.targetAgentId, result.failures.length
    )
  }
}
