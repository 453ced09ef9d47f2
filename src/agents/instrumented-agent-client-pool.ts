import type { AgentId } from '../domain/kernel-info.js'
import type { Metrics } from '../observability/metrics.js'
import type { AgentClient, AgentClientPool } from './agent-client-pool.js'

/** Times every running check and counts failures by error, around any pool. */
export class InstrumentedAgentClientPool implements AgentClientPool {
  constructor (private readonly inner: AgentClientPool, private readonly metrics: Metrics) {}

  async acquire (agentId: AgentId): Promise<AgentClient> {
    const client = await this.inner.acquire(agentId).catch((error: unknown) => {
      this.metrics.agentRpcErrors.inc({ error: (error as Error).name })
      throw error
    })
    return {
      checkRunning: async (kernelId) => {
        const stop = this.metrics.agentRpcDuration.startTimer()
        try {
          return await client.checkRunning(kernelId)
        } catch (error) {
          this.metrics.agentRpcErrors.inc({ error: (error as Error).name })
          throw error
        } finally {
          stop()
        }
      },
    }
  }
}
