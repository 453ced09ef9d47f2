import { setMaxListeners } from 'node:events'
import pLimit, { type LimitFunction } from 'p-limit'
import type { AgentClient, AgentClientPool } from '../agents/agent-client-pool.js'
import {
  AgentMalformedResponseError, AgentMismatchError, AgentTimeoutError, AgentUnreachableError,
} from '../agents/agent-errors.js'
import type { AgentId, KernelId } from '../domain/kernel-info.js'
import { SkipCause } from '../domain/results.js'
import type { Logger } from '../logger.js'

/**
 * What one call says of its agent (rule 12): answered as itself, or unreachable (refused, reset,
 * timed out, a 404 or an answer naming another agent), or nothing either way (5xx, malformed).
 */
export type Contact = 'reached' | 'unreachable' | 'none'

/** What stage 2 concluded of one kernel, and what its own check said of the agent (rule 13). */
export type Verdict =
  | { readonly kind: 'dead', readonly contact: Contact }
  | { readonly kind: 'alive', readonly contact: Contact }
  | { readonly kind: 'skipped', readonly cause: SkipCause, readonly error: string, readonly contact: Contact }

export type SkippedVerdict = Extract<Verdict, { readonly kind: 'skipped' }>

export function skipped (cause: SkipCause, error: string, contact: Contact): SkippedVerdict {
  return { kind: 'skipped', cause, error, contact }
}

export interface AgentCall {
  readonly agentId: AgentId
  readonly contact: Contact
}

export interface Inquiry {
  readonly verdicts: ReadonlyMap<KernelId, Verdict>
  /** Every call that decided something, batched or not: a batch route's "not here" is no call. */
  readonly calls: readonly AgentCall[]
}

export interface AgentInquiryOptions {
  readonly agentClientPool: AgentClientPool
  /** Most calls in flight at once within one inquiry, a batch counting one (`AGENT_RPC_CONCURRENCY`). */
  readonly concurrency: number
  /** Most kernels in one batched call (`AGENT_RPC_BATCH_SIZE`). */
  readonly batchSize: number
  readonly logger: Logger
}

function causeOf (error: unknown): SkipCause {
  if (error instanceof AgentTimeoutError) return SkipCause.AGENT_TIMEOUT
  if (error instanceof AgentMismatchError) return SkipCause.AGENT_MISMATCH
  return SkipCause.AGENT_ERROR
}

function contactOf (error: unknown): Contact {
  if (error instanceof AgentTimeoutError || error instanceof AgentMismatchError || error instanceof AgentUnreachableError) return 'unreachable'
  if (error instanceof AgentMalformedResponseError && error.fromAgent) return 'reached'
  return 'none'
}

// An answer from the agent itself: shared, as a storm decides a hundred thousand kernels this way.
const DEAD: Verdict = Object.freeze({ kind: 'dead', contact: 'reached' })
const ALIVE: Verdict = Object.freeze({ kind: 'alive', contact: 'reached' })

/** What the agent asked said of a kernel: only an explicit boolean decides. */
function verdictOf (running: unknown, missing: string): Verdict {
  if (running === false) return DEAD
  if (running === true) return ALIVE
  return skipped(SkipCause.AGENT_ERROR, running === undefined ? missing : `running is ${JSON.stringify(running)}, not a boolean`, 'reached')
}

function chunksOf<T> (items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size))
  return chunks
}

/**
 * Stage 2 (contract §5): asks each agent about its suspects, in as few batched calls as the batch
 * size allows, or one call per kernel for an agent without the batch route — found out in the same
 * inquiry, from its answer to the first batch. Every failure is a skip, never a death.
 */
export class AgentInquiry {
  private readonly verdicts = new Map<KernelId, Verdict>()
  private readonly calls: AgentCall[] = []
  // One limiter per inquiry: the bound is per sweep, and other groups' sweeps do not queue behind it.
  private readonly limit: LimitFunction

  // The inquiry's own signal, aborted with the caller's: every call in flight listens to it, so the
  // long-lived shutdown signal gets one listener per sweep instead of one per call.
  private readonly abandon = new AbortController()
  private readonly signal = this.abandon.signal

  constructor (private readonly options: AgentInquiryOptions, private readonly callerSignal: AbortSignal | undefined) {
    this.limit = pLimit(options.concurrency)
    // Up to `concurrency` calls listen at once; that many listeners is no leak.
    setMaxListeners(options.concurrency + 1, this.signal)
  }

  /**
   * Rejects only with the reason of an aborted `signal` (the service shutting down): the calls
   * still queued then reject before asking anyone, and no verdict is given.
   */
  async ask (kernelsByAgent: ReadonlyMap<AgentId, readonly KernelId[]>): Promise<Inquiry> {
    const caller = this.callerSignal
    caller?.throwIfAborted()
    const forward = (): void => { this.abandon.abort(caller?.reason) }
    caller?.addEventListener('abort', forward, { once: true })
    try {
      await Promise.all([...kernelsByAgent].map(([agentId, kernelIds]) => this.askAgent(agentId, kernelIds)))
      return { verdicts: this.verdicts, calls: this.calls }
    } finally {
      caller?.removeEventListener('abort', forward)
    }
  }

  private async askAgent (agentId: AgentId, kernelIds: readonly KernelId[]): Promise<void> {
    let client: AgentClient
    try {
      client = await this.options.agentClientPool.acquire(agentId)
    } catch (error) {
      this.failed(agentId, kernelIds, error)
      return
    }
    if (!client.batches) {
      await this.askEach(client, agentId, kernelIds)
      return
    }
    // The fallback is queued once the batch call has left the limiter, never from inside it: a
    // task waiting on tasks of its own limiter could wait for ever with every slot taken.
    await Promise.all(chunksOf(kernelIds, this.options.batchSize).map(async (chunk) => {
      const answered = await this.limited(() => this.askBatch(client, agentId, chunk))
      if (!answered) await this.askEach(client, agentId, chunk)
    }))
  }

  private askEach (client: AgentClient, agentId: AgentId, kernelIds: readonly KernelId[]): Promise<unknown> {
    return Promise.all(kernelIds.map((kernelId) => this.limited(() => this.askOne(client, agentId, kernelId))))
  }

  private limited<T> (call: () => Promise<T>): Promise<T> {
    return this.limit(() => {
      this.signal.throwIfAborted()
      return call()
    })
  }

  /** False when the agent does not serve the batch route: its kernels are to be asked one by one. */
  private async askBatch (client: AgentClient, agentId: AgentId, kernelIds: readonly KernelId[]): Promise<boolean> {
    try {
      const answer = await client.checkRunningBatch(kernelIds, this.signal)
      if (answer === null) return false
      if (answer.agentId !== agentId) {
        this.failed(agentId, kernelIds, new AgentMismatchError(`answer came from agent ${String(answer.agentId)}`))
        return true
      }
      this.calls.push({ agentId, contact: 'reached' })
      for (const kernelId of kernelIds) {
        this.decide(agentId, kernelId, verdictOf(answer.running.get(kernelId), 'the batch answer left the kernel out'))
      }
    } catch (error) {
      this.failed(agentId, kernelIds, error)
    }
    return true
  }

  private async askOne (client: AgentClient, agentId: AgentId, kernelId: KernelId): Promise<void> {
    try {
      const answer = await client.checkRunning(kernelId, this.signal)
      if (answer.agentId !== agentId) {
        this.failed(agentId, [kernelId], new AgentMismatchError(`answer came from agent ${String(answer.agentId)}`))
        return
      }
      this.calls.push({ agentId, contact: 'reached' })
      this.decide(agentId, kernelId, answer.kernelId === kernelId
        ? verdictOf(answer.running, 'the answer has no running')
        : skipped(SkipCause.AGENT_ERROR, `answer names kernel ${String(answer.kernelId)}`, 'reached'))
    } catch (error) {
      this.failed(agentId, [kernelId], error)
    }
  }

  /** A call that gave no answer to trust: every kernel it asked about is skipped, with its cause. */
  private failed (agentId: AgentId, kernelIds: readonly KernelId[], error: unknown): void {
    if (this.signal.aborted) throw this.signal.reason
    const contact = contactOf(error)
    this.calls.push({ agentId, contact })
    const cause = causeOf(error)
    const message = error instanceof Error ? error.message : String(error)
    for (const kernelId of kernelIds) this.verdicts.set(kernelId, skipped(cause, message, contact))
    this.warnLeftAlone(agentId, kernelIds, cause, message)
  }

  private decide (agentId: AgentId, kernelId: KernelId, verdict: Verdict): void {
    this.verdicts.set(kernelId, verdict)
    if (verdict.kind === 'skipped') this.warnLeftAlone(agentId, [kernelId], verdict.cause, verdict.error)
  }

  /** One warning per failed call: a batch that timed out is one event, not a thousand. */
  private warnLeftAlone (agentId: AgentId, kernelIds: readonly KernelId[], cause: SkipCause, error: string): void {
    const { logger } = this.options
    if (kernelIds.length === 1) {
      logger.warn({ kernel_id: kernelIds[0], agent_id: agentId, cause, err: error }, 'stale kernel %s left alone: %s', kernelIds[0], cause)
    } else {
      logger.warn({ kernel_ids: kernelIds, agent_id: agentId, cause, err: error }, '%d stale kernels of agent %s left alone: %s', kernelIds.length, agentId, cause)
    }
  }
}
