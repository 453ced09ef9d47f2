import type { AgentId } from '../domain/kernel-info.js'
import type { Metrics } from '../observability/metrics.js'
import type { AgentClient, AgentClientPool } from './agent-client-pool.js'

/**
 * Times every running check and counts failures by error, around any pool. A check abandoned by
 * its caller (shutdown) is not the agent's failure and is not counted as one.
 */
export class InstrumentedAgentClientPool implements AgentClientPool {
  constructor (private readonly inner: AgentClientPool, private readonly metrics: Metrics) {}

  async acquire (agentId: AgentId): Promise<AgentClient> {
    const client = await this.inner.acquire(agentId).catch((error: unknown) => {
      this.metrics.agentRpcErrors.inc({ error: (error as Error).name })
      throw error
    })
    return {
      checkRunning: async (kernelId, signal) => {
        const stop = this.metrics.agentRpcDuration.startTimer()
        try {
          return await client.checkRunning(kernelId, signal)
        } catch (error) {
          if (signal?.aborted !== true) this.metrics.agentRpcErrors.inc({ error: (error as Error).name })
          throw error
        } finally {
          stop()
        }
      },
    }
  }
}
