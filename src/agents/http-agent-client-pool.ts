import DataLoader from 'dataloader'
import { Pool } from 'undici'
import type { AgentId, KernelId } from '../domain/kernel-info.js'
import type { AgentClient, AgentClientPool, BatchRunningAnswer, RunningAnswer } from './agent-client-pool.js'
import {
  AgentHttpStatusError, AgentMalformedResponseError, AgentMismatchError, AgentTimeoutError, AgentUnknownError, AgentUnreachableError,
} from './agent-errors.js'
import { parseBatchAnswer, parseKernelAnswer } from './running-answers.js'

/** Where agents are: the agents repository fits. */
export interface AgentDirectory {
  /** The registered agents' addresses; an agent not registered is absent. */
  addressesOf (agentIds: readonly AgentId[]): Promise<ReadonlyMap<AgentId, string>>
}

export interface HttpAgentClientPoolOptions {
  readonly directory: AgentDirectory
  /** Per-call bound on connecting, waiting and reading (`AGENT_RPC_TIMEOUT_MS`). */
  readonly timeoutMs: number
  /** How long an agent that does not serve the batch route is asked per kernel (`AGENT_BATCH_RETRY_SEC`; 10 minutes). */
  readonly batchRetryMs?: number
  /** Keep-alive connections per agent; the sweep's own bound (`AGENT_RPC_CONCURRENCY`) caps the total. */
  readonly connectionsPerAgent?: number
  /** How long an agent's address is trusted before it is looked up again (re-registration). */
  readonly addressTtlMs?: number
  /** Now, in epoch milliseconds (tests move it). */
  readonly now?: () => number
}

// A per-kernel answer is a few dozen bytes, a batch one about 45 per kernel: anything much bigger
// is not an agent speaking contract §5.
const MAX_KERNEL_ANSWER_BYTES = 16 * 1024
const MAX_BATCH_ANSWER_BYTES_PER_KERNEL = 128
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])
/** What an agent without the batch route answers it (contract §5): a signal, not a failure. */
const NO_BATCH_ROUTE = new Set([404, 405, 501])

async function readBounded (body: AsyncIterable<Buffer> & { destroy (): void }, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > maxBytes) {
      body.destroy()
      throw new AgentMalformedResponseError(`answer larger than ${maxBytes} bytes`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

interface Exchange {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly body?: string
  readonly maxBytes: number
}

/** Agent RPC over HTTP (contract §5), with a keep-alive connection pool per agent. */
export class HttpAgentClientPool implements AgentClientPool {
  private readonly pools = new Map<string, Pool>()
  private readonly addresses = new Map<AgentId, { origin: string, expiresAt: number }>()
  /** Agents that answered the batch route 404/405/501, and until when they are asked per kernel. */
  private readonly perKernelUntil = new Map<AgentId, number>()
  // A sweep acquires all its agents at once: their addresses are looked up in one query, not one each.
  private readonly lookups: DataLoader<AgentId, string | null>
  private readonly timeoutMs: number
  private readonly batchRetryMs: number
  private readonly connectionsPerAgent: number
  private readonly addressTtlMs: number
  private readonly now: () => number

  constructor (options: HttpAgentClientPoolOptions) {
    const { directory } = options
    this.lookups = new DataLoader(async (agentIds) => {
      const addresses = await directory.addressesOf(agentIds)
      return agentIds.map((agentId) => addresses.get(agentId) ?? null)
    }, { cache: false })
    this.timeoutMs = options.timeoutMs
    this.batchRetryMs = options.batchRetryMs ?? 600_000
    this.connectionsPerAgent = options.connectionsPerAgent ?? 8
    this.addressTtlMs = options.addressTtlMs ?? 5_000
    this.now = options.now ?? Date.now
  }

  async acquire (agentId: AgentId): Promise<AgentClient> {
    const origin = await this.originOf(agentId)
    return {
      batches: this.batches(agentId),
      checkRunning: (kernelId, signal) => this.checkRunning(origin, agentId, kernelId, signal),
      checkRunningBatch: (kernelIds, signal) => this.checkRunningBatch(origin, agentId, kernelIds, signal),
    }
  }

  forget (agentId: AgentId): void {
    this.addresses.delete(agentId)
    this.perKernelUntil.delete(agentId)
  }

  async close (): Promise<void> {
    const pools = [...this.pools.values()]
    this.pools.clear()
    await Promise.all(pools.map((pool) => pool.destroy()))
  }

  private batches (agentId: AgentId): boolean {
    const until = this.perKernelUntil.get(agentId)
    if (until === undefined) return true
    if (until > this.now()) return false
    this.perKernelUntil.delete(agentId)
    return true
  }

  private async originOf (agentId: AgentId): Promise<string> {
    const cached = this.addresses.get(agentId)
    if (cached !== undefined && cached.expiresAt > this.now()) return cached.origin
    const address = await this.lookups.load(agentId)
    if (address === null) throw new AgentUnknownError(`agent ${agentId} is not registered`)
    const origin = new URL(address).origin
    this.addresses.set(agentId, { origin, expiresAt: this.now() + this.addressTtlMs })
    return origin
  }

  private poolFor (origin: string): Pool {
    let pool = this.pools.get(origin)
    if (pool === undefined) {
      pool = new Pool(origin, { connections: this.connectionsPerAgent, connect: { timeout: this.timeoutMs } })
      this.pools.set(origin, pool)
    }
    return pool
  }

  private async checkRunning (origin: string, agentId: AgentId, kernelId: KernelId, signal?: AbortSignal): Promise<RunningAnswer> {
    const { statusCode, text } = await this.exchange(origin, agentId, {
      method: 'GET',
      path: `/v1/kernels/${encodeURIComponent(kernelId)}/running?agent_id=${encodeURIComponent(agentId)}`,
      maxBytes: MAX_KERNEL_ANSWER_BYTES,
    }, signal)
    if (statusCode === 404) throw new AgentMismatchError(`agent at ${origin} does not host agent ${agentId} (404)`)
    if (statusCode !== 200) throw new AgentHttpStatusError(statusCode)
    return parseKernelAnswer(text, agentId, kernelId)
  }

  private async checkRunningBatch (origin: string, agentId: AgentId, kernelIds: readonly KernelId[], signal?: AbortSignal): Promise<BatchRunningAnswer | null> {
    // Learnt from another call of the same sweep since this client was acquired: no call.
    if (!this.batches(agentId)) return null
    const { statusCode, text } = await this.exchange(origin, agentId, {
      method: 'POST',
      path: '/v1/kernels/running',
      body: JSON.stringify({ agent_id: agentId, kernel_ids: kernelIds }),
      maxBytes: MAX_KERNEL_ANSWER_BYTES + kernelIds.length * MAX_BATCH_ANSWER_BYTES_PER_KERNEL,
    }, signal)
    if (NO_BATCH_ROUTE.has(statusCode)) {
      this.perKernelUntil.set(agentId, this.now() + this.batchRetryMs)
      return null
    }
    if (statusCode !== 200) throw new AgentHttpStatusError(statusCode)
    return parseBatchAnswer(text, agentId, kernelIds)
  }

  /** One call, bounded by the per-call timeout and abandoned with `signal`; transport failures as agent errors. */
  private async exchange (origin: string, agentId: AgentId, exchange: Exchange, signal?: AbortSignal): Promise<{ statusCode: number, text: string }> {
    signal?.throwIfAborted()
    // The caller's signal and the per-call timeout, combined by hand: on Node 20, AbortSignal.any
    // keeps every signal it derives from a long-lived one (the shutdown signal) for good
    // (nodejs/node#55351), a leak of one per agent call.
    const call = new AbortController()
    const abandon = (): void => { call.abort() }
    const timer = setTimeout(abandon, this.timeoutMs)
    signal?.addEventListener('abort', abandon, { once: true })
    try {
      const response = await this.poolFor(origin).request({
        method: exchange.method,
        path: exchange.path,
        headers: exchange.body === undefined
          ? { accept: 'application/json' }
          : { accept: 'application/json', 'content-type': 'application/json' },
        ...(exchange.body === undefined ? {} : { body: exchange.body }),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: call.signal,
      })
      return { statusCode: response.statusCode, text: await readBounded(response.body, exchange.maxBytes) }
    } catch (error) {
      if (error instanceof AgentMalformedResponseError) throw error
      // Abandoned by the caller: its reason, not a timeout or an unreachable agent.
      if (signal?.aborted === true) throw signal.reason
      const code = (error as { code?: unknown }).code
      if (call.signal.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
        throw new AgentTimeoutError(`agent ${agentId} did not answer within ${this.timeoutMs} ms`, { cause: error })
      }
      throw new AgentUnreachableError(`agent ${agentId} at ${origin}: ${(error as Error).message}`, { cause: error })
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', abandon)
    }
  }
}
