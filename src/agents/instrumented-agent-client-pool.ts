import type { AgentId } from '../domain/kernel-info.js'
import type { Metrics } from '../observability/metrics.js'
import type { AgentClient, AgentClientPool } from './agent-client-pool.js'

/**
 * Times every agent call and counts failures by error, around any pool. A call abandoned by its
 * caller (shutdown) is not the agent's failure and is not counted as one.
 */
export class InstrumentedAgentClientPool implements AgentClientPool {
  constructor (private readonly inner: AgentClientPool, private readonly metrics: Metrics) {}

  async acquire (agentId: AgentId): Promise<AgentClient> {
    const client = await this.inner.acquire(agentId).catch((error: unknown) => {
      this.metrics.agentRpcErrors.inc({ error: (error as Error).name })
      throw error
    })
    return {
      batches: client.batches,
      checkRunning: (kernelId, signal) => this.measured('kernel', signal, () => client.checkRunning(kernelId, signal)),
      checkRunningBatch: (kernelIds, signal) => this.measured('batch', signal, () => client.checkRunningBatch(kernelIds, signal)),
    }
  }

  forget (agentId: AgentId): void {
    this.inner.forget(agentId)
  }

  private async measured<T> (route: 'kernel' | 'batch', signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    const stop = this.metrics.agentRpcDuration.startTimer({ route })
    try {
      return await call()
    } catch (error) {
      if (signal?.aborted !== true) this.metrics.agentRpcErrors.inc({ error: (error as Error).name })
      throw error
    } finally {
      stop()
    }
  }
}
