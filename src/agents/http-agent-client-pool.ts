import { Pool } from 'undici'
import type { AgentId, KernelId } from '../domain/kernel-info.js'
import { parseStrictJson, RepeatedKeyError } from '../json/strict-json.js'
import type { AgentClient, AgentClientPool, RunningAnswer } from './agent-client-pool.js'
import {
  AgentHttpStatusError, AgentMalformedResponseError, AgentMismatchError, AgentTimeoutError,
  AgentUnknownError, AgentUnreachableError,
} from './agent-errors.js'

/** Where agents are: the agents repository fits. */
export interface AgentDirectory {
  get (agentId: AgentId): Promise<{ readonly address: string } | null>
}

export interface HttpAgentClientPoolOptions {
  readonly directory: AgentDirectory
  /** Per-call bound on connecting, waiting and reading (`AGENT_RPC_TIMEOUT_MS`). */
  readonly timeoutMs: number
  /** Keep-alive connections per agent; the sweep's own bound (`AGENT_RPC_CONCURRENCY`) caps the total. */
  readonly connectionsPerAgent?: number
  /** How long an agent's address is trusted before it is looked up again (re-registration). */
  readonly addressTtlMs?: number
}

// An answer is a few dozen bytes; anything much bigger is not an agent speaking contract §5.
const MAX_BODY_BYTES = 16 * 1024
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])

function parseAnswer (text: string, agentId: AgentId, kernelId: KernelId): RunningAnswer {
  let body: unknown
  try {
    // Strict: `"running": true, "running": false` is an ambiguous answer, and one never kills.
    body = parseStrictJson(text)
  } catch (error) {
    if (error instanceof RepeatedKeyError) {
      throw new AgentMalformedResponseError(`agent ${agentId} answered ambiguously: ${error.message}`, { cause: error })
    }
    throw new AgentMalformedResponseError(`agent ${agentId} answered something that is not JSON`)
  }
  const { agent_id: answeredAgent, kernel_id: answeredKernel, running } = (body ?? {}) as Record<string, unknown>
  if (typeof answeredAgent === 'string' && answeredAgent !== agentId) {
    throw new AgentMismatchError(`asked agent ${agentId}, answered by agent ${answeredAgent}`)
  }
  const fromAgent = answeredAgent === agentId
  if (typeof answeredKernel !== 'string' || typeof running !== 'boolean' || !fromAgent) {
    throw new AgentMalformedResponseError(`agent ${agentId} answered without agent_id, kernel_id and a boolean running`, { fromAgent })
  }
  if (answeredKernel.toLowerCase() !== kernelId) {
    throw new AgentMalformedResponseError(`asked about kernel ${kernelId}, answered about ${answeredKernel}`, { fromAgent })
  }
  return { agentId: answeredAgent, kernelId, running }
}

async function readBounded (body: AsyncIterable<Buffer> & { destroy (): void }): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) {
      body.destroy()
      throw new AgentMalformedResponseError(`answer larger than ${MAX_BODY_BYTES} bytes`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Agent RPC over HTTP (contract §5), with a keep-alive connection pool per agent. */
export class HttpAgentClientPool implements AgentClientPool {
  private readonly pools = new Map<string, Pool>()
  private readonly addresses = new Map<AgentId, { origin: string, expiresAt: number }>()
  private readonly directory: AgentDirectory
  private readonly timeoutMs: number
  private readonly connectionsPerAgent: number
  private readonly addressTtlMs: number

  constructor (options: HttpAgentClientPoolOptions) {
    this.directory = options.directory
    this.timeoutMs = options.timeoutMs
    this.connectionsPerAgent = options.connectionsPerAgent ?? 8
    this.addressTtlMs = options.addressTtlMs ?? 5_000
  }

  async acquire (agentId: AgentId): Promise<AgentClient> {
    const origin = await this.originOf(agentId)
    return { checkRunning: (kernelId, signal) => this.checkRunning(origin, agentId, kernelId, signal) }
  }

  async close (): Promise<void> {
    const pools = [...this.pools.values()]
    this.pools.clear()
    await Promise.all(pools.map((pool) => pool.destroy()))
  }

  private async originOf (agentId: AgentId): Promise<string> {
    const cached = this.addresses.get(agentId)
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.origin
    const agent = await this.directory.get(agentId)
    if (agent === null) throw new AgentUnknownError(`agent ${agentId} is not registered`)
    const origin = new URL(agent.address).origin
    this.addresses.set(agentId, { origin, expiresAt: Date.now() + this.addressTtlMs })
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
    signal?.throwIfAborted()
    // The caller's signal and the per-call timeout, combined by hand: on Node 20, AbortSignal.any
    // keeps every signal it derives from a long-lived one (the shutdown signal) for good
    // (nodejs/node#55351), a leak of one per agent call.
    const call = new AbortController()
    const abandon = (): void => { call.abort() }
    const timer = setTimeout(abandon, this.timeoutMs)
    signal?.addEventListener('abort', abandon, { once: true })
    let statusCode: number
    let text: string
    try {
      const response = await this.poolFor(origin).request({
        method: 'GET',
        path: `/v1/kernels/${encodeURIComponent(kernelId)}/running?agent_id=${encodeURIComponent(agentId)}`,
        headers: { accept: 'application/json' },
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: call.signal,
      })
      statusCode = response.statusCode
      text = await readBounded(response.body)
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
    if (statusCode === 404) throw new AgentMismatchError(`agent at ${origin} does not host agent ${agentId} (404)`)
    if (statusCode !== 200) throw new AgentHttpStatusError(statusCode)
    return parseAnswer(text, agentId, kernelId)
  }
}
