import type { AgentId } from '../domain/kernel-info.js'
import type { KernelPages } from '../domain/kernel-pages.js'
import type { KernelStatus } from '../domain/kernel-status.js'
import type { LockID } from '../domain/lock-id.js'
import type { KernelExecutionResult, KernelStatusTransitions } from '../domain/results.js'

/**
 * A kernel handler is declared, not configured: the coordinator reads what it targets, where its
 * outcomes lead and which lock it needs, then hands it kernels. The handler classifies; it never
 * writes kernel state itself.
 */
export interface KernelLifecycleHandler {
  readonly name: string
  readonly targetKernelStatuses: readonly KernelStatus[]
  readonly statusTransitions: KernelStatusTransitions
  readonly lockId: LockID | null
  /** Only the kernels of this agent (decommissioning); null: every kernel of the group in the target statuses. */
  readonly targetAgentId: AgentId | null
  /** Whether a failure must be confirmed by `SWEEP_CONFIRMATIONS` sweeps in a row (rule 11). */
  readonly requiresConfirmation: boolean
  /**
   * `kernels` arrive a page at a time; a handler may start on the first while the rest is read.
   * `signal` aborts when the service shuts down: the handler then rejects with its reason.
   */
  execute (scalingGroup: string, kernels: KernelPages, signal?: AbortSignal): Promise<KernelExecutionResult>
  /** Runs after the coordinator applied the transitions, with the result it applied. */
  postProcess (result: KernelExecutionResult): Promise<void>
}
