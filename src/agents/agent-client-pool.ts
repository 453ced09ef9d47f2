import type { AgentId, KernelId } from '../domain/kernel-info.js'

/**
 * An agent's answer to "does this kernel run?" (contract §5). `running` is deliberately
 * `unknown`: the terminator does not trust adapters, and only an explicit `false` kills.
 */
export interface RunningAnswer {
  readonly agentId: AgentId
  readonly kernelId: KernelId
  readonly running: unknown
}

/**
 * An agent's answer about many kernels in one call (contract §5, batched). `running` holds what
 * the agent said of each kernel asked, untrusted as above; a kernel it left out is absent.
 */
export interface BatchRunningAnswer {
  readonly agentId: unknown
  readonly running: ReadonlyMap<KernelId, unknown>
}

export interface AgentClient {
  /**
   * Whether the agent is to be asked in batches: false once it has answered the batch route with
   * `404`, `405` or `501`, until that is forgotten (`AGENT_BATCH_RETRY_SEC`, or re-registration).
   */
  readonly batches: boolean
  /**
   * Asks the agent. When `signal` aborts (the service shutting down), the call is abandoned and
   * rejects with `signal.reason`: that is the caller's decision, not an answer from the agent.
   */
  checkRunning (kernelId: KernelId, signal?: AbortSignal): Promise<RunningAnswer>
  /**
   * Asks the agent about every kernel in one call; errors and `signal` as `checkRunning`. Null when
   * the agent does not serve the batch route: the kernels are to be asked one by one instead.
   */
  checkRunningBatch (kernelIds: readonly KernelId[], signal?: AbortSignal): Promise<BatchRunningAnswer | null>
}

/** Port to the agents: a client per agent, kept by the pool (keep-alive), so nothing to release. */
export interface AgentClientPool {
  acquire (agentId: AgentId): Promise<AgentClient>
  /** The agent registered again, maybe elsewhere or upgraded: what the pool knew of it is stale. */
  forget (agentId: AgentId): void
}
