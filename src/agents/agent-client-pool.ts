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

export interface AgentClient {
  /**
   * Asks the agent. When `signal` aborts (the service shutting down), the call is abandoned and
   * rejects with `signal.reason`: that is the caller's decision, not an answer from the agent.
   */
  checkRunning (kernelId: KernelId, signal?: AbortSignal): Promise<RunningAnswer>
}

/** Port to the agents: a client per agent, kept by the pool (keep-alive), so nothing to release. */
export interface AgentClientPool {
  acquire (agentId: AgentId): Promise<AgentClient>
}
