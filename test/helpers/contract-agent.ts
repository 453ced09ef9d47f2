import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

/** One request as an agent received it, body and all. */
export interface AgentRequest {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** Calls in flight at the servers that share it, and the most there ever were at once. */
export class InFlight {
  current = 0
  peak = 0

  enter (): void {
    this.current++
    this.peak = Math.max(this.peak, this.current)
  }

  leave (): void {
    this.current--
  }
}

/** In `answers`: the kernel is left out of a batch answer (and a per-kernel answer has no `running`). */
export const LEFT_OUT: unique symbol = Symbol('left out')

/** A raw answer, for what no well-behaved agent says: `hang` never answers. */
export type RawReply = { readonly status: number, readonly body?: string, readonly contentType?: string } | 'hang'

export interface ContractAgentOptions {
  /**
   * What the batch route (`POST /v1/kernels/running`) does: `serve` it as contract §5 says, or
   * answer a status that says it is not there (a v1 agent). Default `serve`.
   */
  readonly batchRoute?: 'serve' | 404 | 405 | 501
  /** Every call is answered this much later. */
  readonly delayMs?: number
  /** Shared with other agents, to see calls in flight across them. */
  readonly inFlight?: InFlight
}

/**
 * An agent on a real socket speaking contract §5 on both routes, as the test scripts it, that
 * records every request it gets (refused ones too). It hosts `agentId` only: a request for
 * another agent id is `404` on both routes, as a batch-capable agent answers it.
 */
export class ContractAgent {
  /** Every request, in the order they came. */
  readonly requests: AgentRequest[] = []
  /** What the agent says of each kernel; a kernel not listed does not run (`false`). Any value goes, `LEFT_OUT` leaves it out. */
  readonly answers = new Map<string, unknown>()
  /** Per-kernel route: answers this status (with no body) instead, when set. */
  kernelStatus: number | undefined
  /** Batch route, when served: answers this instead of what `answers` says, when set. */
  batchReply: ((kernelIds: readonly string[]) => RawReply) | undefined
  /** Both routes: never answer. */
  hang = false
  batchRoute: 'serve' | 404 | 405 | 501
  readonly inFlight: InFlight
  private readonly delayMs: number

  private constructor (
    readonly agentId: string,
    readonly url: string,
    options: ContractAgentOptions,
    /** Stops listening and drops every connection (also done at teardown): the agent is gone. */
    readonly close: () => Promise<void>
  ) {
    this.batchRoute = options.batchRoute ?? 'serve'
    this.delayMs = options.delayMs ?? 0
    this.inFlight = options.inFlight ?? new InFlight()
  }

  static async start (t: Test, agentId: string, options: ContractAgentOptions = {}): Promise<ContractAgent> {
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    let closed: Promise<void> | undefined
    const close = (): Promise<void> => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => { resolve() })
        server.closeAllConnections()
      })
      return closed
    }
    t.teardown(close)
    const agent = new ContractAgent(agentId, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, options, close)
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'http://agent')
        agent.handle({
          method: request.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }, response)
      })
    })
    return agent
  }

  /** Requests on the batch route, refused ones too. */
  get posts (): AgentRequest[] {
    return this.requests.filter((request) => request.method === 'POST' && request.path === '/v1/kernels/running')
  }

  /** Requests on the per-kernel route. */
  get gets (): AgentRequest[] {
    return this.requests.filter((request) => request.method === 'GET' && /^\/v1\/kernels\/[^/]+\/running$/.test(request.path))
  }

  /** The `kernel_ids` of every batch request, in order. */
  get batches (): string[][] {
    return this.posts.map((request) => (JSON.parse(request.body) as { kernel_ids: string[] }).kernel_ids)
  }

  /** The kernel ids asked about one at a time, in order. */
  get askedOneByOne (): string[] {
    return this.gets.map((request) => decodeURIComponent(/^\/v1\/kernels\/([^/]+)\/running$/.exec(request.path)![1]!))
  }

  private handle (request: AgentRequest, response: ServerResponse): void {
    this.requests.push(request)
    this.inFlight.enter()
    let left = false
    const leave = (): void => {
      if (left) return
      left = true
      this.inFlight.leave()
    }
    response.once('finish', leave)
    response.once('close', leave)
    const reply = this.replyTo(request)
    if (reply === 'hang') return
    const send = (): void => {
      const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(reply.body ?? '') }
      if (reply.body !== undefined) headers['content-type'] = reply.contentType ?? 'application/json'
      response.writeHead(reply.status, headers)
      response.end(reply.body ?? '')
    }
    if (this.delayMs > 0) setTimeout(send, this.delayMs)
    else send()
  }

  private replyTo (request: AgentRequest): RawReply {
    const kernelCheck = /^\/v1\/kernels\/([^/]+)\/running$/.exec(request.path)
    if (request.method === 'POST' && request.path === '/v1/kernels/running') {
      if (this.batchRoute !== 'serve') return { status: this.batchRoute, body: '{"detail":"one kernel at a time"}' }
      let asked: { agent_id?: unknown, kernel_ids?: unknown }
      try {
        asked = JSON.parse(request.body) as typeof asked
      } catch {
        return { status: 400 }
      }
      if (asked.agent_id !== this.agentId) return { status: 404 }
      if (!Array.isArray(asked.kernel_ids)) return { status: 400 }
      if (this.hang) return 'hang'
      const kernelIds = asked.kernel_ids as string[]
      if (this.batchReply !== undefined) return this.batchReply(kernelIds)
      const running: Record<string, unknown> = {}
      for (const kernelId of kernelIds) {
        const answer = this.answers.has(kernelId) ? this.answers.get(kernelId) : false
        if (answer !== LEFT_OUT) running[kernelId] = answer
      }
      return { status: 200, body: JSON.stringify({ agent_id: this.agentId, running }) }
    }
    if (request.method === 'GET' && kernelCheck !== null) {
      if (request.query.get('agent_id') !== this.agentId) return { status: 404 }
      if (this.hang) return 'hang'
      if (this.kernelStatus !== undefined) return { status: this.kernelStatus }
      const kernelId = decodeURIComponent(kernelCheck[1]!)
      const answer = this.answers.has(kernelId) ? this.answers.get(kernelId) : false
      const body: Record<string, unknown> = { agent_id: this.agentId, kernel_id: kernelId }
      if (answer !== LEFT_OUT) body['running'] = answer
      return { status: 200, body: JSON.stringify(body) }
    }
    return { status: 404 }
  }
}
