import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AgentId, KernelId } from '../../domain/kernel-info.js'

/**
 * What a simulated kernel does when asked about and when heartbeats go out:
 * - `running`: answers `running: true`, reported present;
 * - `unhealthy`: answers `running: true`, reported present but unhealthy (`false`);
 * - `dead`: answers `running: false`, not reported (the kernel was killed);
 * - `hang`: the check never answers, not reported (a wedged agent);
 * - `error`: the check answers HTTP 500; `garbage`: a 200 that is not JSON;
 *   `impostor`: a 200 naming another agent, saying the kernel does not run (only the service's
 *   agent id check stands between that lie and a kill); `half-close`: the connection drops
 *   mid-answer. These four are reported present, so only a forced check reaches them.
 *
 * In a batched check (`POST /v1/kernels/running`) an unknown or `dead` kernel is `false`, and
 * `running` and `unhealthy` ones are `true`. A failure of one kernel inside a batch can only show in
 * its entry: `error` leaves the kernel out of `running`, `garbage` gives it a value that is not a
 * boolean. `hang`, `half-close` and `impostor` spoil the whole call when any kernel asked has one,
 * in that order of precedence: the call is never answered, its connection drops mid-answer, or its
 * body names another agent (with `false` for the impostor's kernels, as above).
 */
export type KernelBehaviour = 'running' | 'unhealthy' | 'dead' | 'hang' | 'error' | 'garbage' | 'impostor' | 'half-close'

export const KERNEL_BEHAVIOURS: readonly KernelBehaviour[] = ['running', 'unhealthy', 'dead', 'hang', 'error', 'garbage', 'impostor', 'half-close']

const REPORTED: ReadonlySet<KernelBehaviour> = new Set(['running', 'unhealthy', 'error', 'garbage', 'impostor', 'half-close'])

/** The behaviours that spoil a whole batched call, strongest first (see `KernelBehaviour`). */
const CALL_FAULTS = ['hang', 'half-close', 'impostor'] as const satisfies readonly KernelBehaviour[]

/** What `garbage` answers: a whole body on the per-kernel route, one kernel's value in a batch. */
const GARBAGE = '<html>not json</html>'

export type PresenceReporter = (agentId: AgentId, kernels: ReadonlyMap<KernelId, boolean>) => Promise<void>

/** Registers the agent at `address` with the service (`PUT /v1/agents/{agent_id}`). */
export type Registrar = (agentId: AgentId, address: string) => Promise<void>

/** What the service answers to reconciliation (`POST /v1/agents/{agent_id}/reconcile`, contract §3). */
export interface Reconciliation {
  /** Kernels the agent runs and should stop: unknown to the service, final there, or another agent's. */
  readonly orphans: readonly KernelId[]
  /** Kernels the service has on this agent, not final, that the agent did not list. */
  readonly missing: readonly KernelId[]
}

/** Sends the kernels the agent runs to the service, and returns its answer. */
export type Reconciler = (agentId: AgentId, kernels: readonly KernelId[]) => Promise<Reconciliation>

/** An error a registrar throws when trying again cannot help (the service refused the registration, 4xx). */
export interface MaybePermanentError {
  readonly permanent?: boolean
}

export interface AgentSimulatorOptions {
  readonly agentId: AgentId
  readonly host?: string
  /** 0 picks a free port. */
  readonly port?: number
  /** Where heartbeats go; none are sent without it. */
  readonly reportPresence?: PresenceReporter
  /** Heartbeat period; 0 sends them only when `sendPresence()` is called. */
  readonly presenceIntervalMs?: number
  readonly onReportError?: (error: unknown) => void
  /**
   * Every call on either running route is answered this much later (a busy agent, for benchmarks):
   * once per call, however many kernels a batch asks about.
   */
  readonly answerDelayMs?: number
  /**
   * `false` makes a v1 agent, without the batched route of contract §5, so that tests can watch the
   * service fall back to per-kernel calls. Default true.
   */
  readonly batch?: boolean
  /** What a v1 agent (`batch: false`) answers on the batched route: each is a fallback signal of contract §5. Default 404. */
  readonly batchUnsupportedStatus?: 404 | 405 | 501
  /**
   * Registers the agent once it listens, in the background, trying again until the service
   * answers (network errors and 5xx; an error marked `permanent` stops it) with a backoff that
   * doubles from `initialMs` up to `maxMs`. `registered` says how it ended.
   */
  readonly register?: Registrar
  readonly registerBackoff?: { readonly initialMs: number, readonly maxMs: number }
  /** Each failed registration attempt, and the delay before the next (null: no next). */
  readonly onRegisterError?: (error: unknown, attempt: number, retryInMs: number | null) => void
  /** Where reconciliation goes; the agent never reconciles without it. */
  readonly reconcileWith?: Reconciler
  /** `false` turns reconciliation off (the kernels the service calls orphans are then left running). Default true. */
  readonly reconcile?: boolean
  /** Reconciliation period; 0 reconciles only when `reconcileNow()` is called. Waits for registration when `register` is given. */
  readonly reconcileIntervalMs?: number
  /** Each answer, after the orphans were stopped. */
  readonly onReconciled?: (result: Reconciliation, stopped: readonly KernelId[]) => void
  readonly onReconcileError?: (error: unknown) => void
}

const DEFAULT_REGISTER_BACKOFF = { initialMs: 200, maxMs: 10_000 }

function sendJson (response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

async function readJson (request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

/** Answers 200 with a promise of more and breaks it, as an agent that dies mid-answer. */
function dropMidAnswer (response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' })
  response.write('{"agent_id":')
  response.socket?.destroy()
}

/** What an answer says of a kernel: every kernel the agent has runs but the killed ones, and an impostor lies that it does not. */
function claimedRunning (behaviour: KernelBehaviour | undefined): boolean {
  return behaviour !== undefined && behaviour !== 'dead' && behaviour !== 'impostor'
}

/** A kernel's entry in a batch answer (none for `error`): a per-kernel failure can only show there. */
function batchEntry (behaviour: KernelBehaviour | undefined): boolean | typeof GARBAGE | undefined {
  if (behaviour === 'error') return undefined
  return behaviour === 'garbage' ? GARBAGE : claimedRunning(behaviour)
}

interface BatchRequest {
  readonly agent_id?: unknown
  readonly kernel_ids?: unknown
}

/**
 * A stand-in for a Backend.AI agent: serves `GET /v1/kernels/{id}/running` and, unless started with
 * `batch: false`, `POST /v1/kernels/running` (contract §5) for a set of kernels whose behaviour
 * tests, the demo and benchmarks control, and sends heartbeats for the kernels it runs. Given a
 * registrar it registers itself until the service answers; given a reconciler it tells the service
 * what it runs and stops the orphans (contract §3). Small admin routes under `/admin` change kernels
 * from outside the process.
 */
export class AgentSimulator {
  /**
   * Calls served on either running route (a batch is one), counted when taken on, so a call held by
   * `hang` counts. A call for another agent, a malformed one, or one refused by a v1 agent does not.
   */
  checksServed = 0
  /** Batched calls served (answered or held), a share of `checksServed`. */
  batchCallsServed = 0
  /** Kernel ids asked about in served calls on either route: one per check, every id a batch lists. */
  kernelsAsked = 0
  /** Orphans stopped because the service said so, oldest first. */
  readonly orphansStopped: KernelId[] = []
  /** The service's last answer to reconciliation. */
  lastReconciliation: Reconciliation | undefined
  /**
   * Settles once registration has ended: true when the service took it (at once without
   * `register`), false when it refused it for good or the simulator closed first. Never rejects.
   */
  readonly registered: Promise<boolean>
  private settleRegistration: (registered: boolean) => void = () => {}
  private readonly kernels = new Map<KernelId, KernelBehaviour>()
  private readonly server: Server
  private timer: NodeJS.Timeout | undefined
  private reconcileTimer: NodeJS.Timeout | undefined
  private registerTimer: NodeJS.Timeout | undefined
  private closed = false
  private registrationEnded = false
  private isRegistered = false
  private reconciling = false

  private constructor (private readonly options: AgentSimulatorOptions) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, 400, { detail: (error as Error).message })
      })
    })
    this.registered = new Promise((resolve) => {
      this.settleRegistration = (registered) => {
        if (this.registrationEnded) return
        this.registrationEnded = true
        this.isRegistered = registered
        resolve(registered)
      }
    })
  }

  static async start (options: AgentSimulatorOptions): Promise<AgentSimulator> {
    const simulator = new AgentSimulator(options)
    simulator.server.listen(options.port ?? 0, options.host ?? '127.0.0.1')
    await once(simulator.server, 'listening')
    const interval = options.presenceIntervalMs ?? 0
    if (interval > 0 && options.reportPresence !== undefined) {
      simulator.timer = setInterval(() => { simulator.sendPresence().catch(options.onReportError ?? (() => {})) }, interval)
      simulator.timer.unref()
    }
    if (options.register === undefined) simulator.settleRegistration(true)
    else simulator.tryToRegister(options.register, 1)
    const reconcileInterval = options.reconcileIntervalMs ?? 0
    if (reconcileInterval > 0 && simulator.reconciles) {
      simulator.reconcileTimer = setInterval(() => {
        simulator.reconcileWhenRegistered().catch(options.onReconcileError ?? (() => {}))
      }, reconcileInterval)
      simulator.reconcileTimer.unref()
    }
    return simulator
  }

  private get reconciles (): boolean {
    return this.options.reconcileWith !== undefined && this.options.reconcile !== false
  }

  private tryToRegister (register: Registrar, attempt: number): void {
    register(this.agentId, this.url).then(() => { this.settleRegistration(true) }, (error: unknown) => {
      const { initialMs, maxMs } = this.options.registerBackoff ?? DEFAULT_REGISTER_BACKOFF
      const retryInMs = this.closed || (error as MaybePermanentError | null)?.permanent === true
        ? null
        : Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30))
      this.options.onRegisterError?.(error, attempt, retryInMs)
      if (retryInMs === null) {
        this.settleRegistration(false)
        return
      }
      this.registerTimer = setTimeout(() => { this.tryToRegister(register, attempt + 1) }, retryInMs)
      this.registerTimer.unref()
    })
  }

  get agentId (): AgentId {
    return this.options.agentId
  }

  /** `http://host:port`, the address to register. */
  get url (): string {
    const { address, port } = this.server.address() as AddressInfo
    return `http://${address}:${port}`
  }

  setKernel (kernelId: KernelId, behaviour: KernelBehaviour): void {
    this.kernels.set(kernelId.toLowerCase(), behaviour)
  }

  /** Kills the kernel: it stops being reported and the agent answers that it does not run. */
  kill (kernelId: KernelId): void {
    this.setKernel(kernelId, 'dead')
  }

  hang (kernelId: KernelId): void {
    this.setKernel(kernelId, 'hang')
  }

  behaviourOf (kernelId: KernelId): KernelBehaviour | undefined {
    return this.kernels.get(kernelId.toLowerCase())
  }

  /** The heartbeat as it would be sent now: reported kernels, `true` unless unhealthy. */
  presence (): Map<KernelId, boolean> {
    const presence = new Map<KernelId, boolean>()
    for (const [kernelId, behaviour] of this.kernels) {
      if (REPORTED.has(behaviour)) presence.set(kernelId, behaviour !== 'unhealthy')
    }
    return presence
  }

  async sendPresence (): Promise<void> {
    const presence = this.presence()
    if (presence.size > 0) await this.options.reportPresence?.(this.agentId, presence)
  }

  /** The kernels this agent runs: every one it has but the killed ones (hung and failing ones run). */
  runningKernels (): KernelId[] {
    return [...this.kernels].filter(([, behaviour]) => behaviour !== 'dead').map(([kernelId]) => kernelId)
  }

  /**
   * Tells the service which kernels run here and stops (kills) the orphans it names; `missing`
   * is only reported, an agent cannot run what it does not have. Null when reconciliation is off.
   */
  async reconcileNow (): Promise<Reconciliation | null> {
    const reconcileWith = this.options.reconcileWith
    if (reconcileWith === undefined || !this.reconciles) return null
    const result = await reconcileWith(this.agentId, this.runningKernels())
    const stopped: KernelId[] = []
    for (const kernelId of result.orphans) {
      const behaviour = this.behaviourOf(kernelId)
      if (behaviour === undefined || behaviour === 'dead') continue
      this.kill(kernelId)
      stopped.push(kernelId.toLowerCase())
    }
    this.orphansStopped.push(...stopped)
    this.lastReconciliation = result
    this.options.onReconciled?.(result, stopped)
    return result
  }

  /** A timer's turn: skipped until registered (the service does not know the agent yet), or while the last one runs. */
  private async reconcileWhenRegistered (): Promise<void> {
    if (!this.isRegistered || this.reconciling) return
    this.reconciling = true
    try {
      await this.reconcileNow()
    } finally {
      this.reconciling = false
    }
  }

  async close (): Promise<void> {
    this.closed = true
    clearTimeout(this.registerTimer)
    clearInterval(this.reconcileTimer)
    this.settleRegistration(false)
    clearInterval(this.timer)
    this.server.closeAllConnections()
    this.server.close()
  }

  private async handle (request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://agent')
    if (url.pathname === '/v1/kernels/running' && request.method === 'POST') return this.answerBatch(request, response)
    const check = /^\/v1\/kernels\/([^/]+)\/running$/.exec(url.pathname)
    if (check !== null && request.method === 'GET') return this.answerCheck(decodeURIComponent(check[1]!), url, response)
    const admin = /^\/admin\/kernels(?:\/([^/]+))?(?:\/(kill|hang))?$/.exec(url.pathname)
    if (admin !== null) return this.answerAdmin(request, response, admin[1], admin[2])
    sendJson(response, 404, { detail: 'no such route' })
  }

  private answerCheck (kernelId: string, url: URL, response: ServerResponse): void {
    if (url.searchParams.get('agent_id') !== this.agentId) return this.notThisAgent(response)
    this.takeCall(1)
    this.afterDelay(() => { this.answerFor(kernelId, response) })
  }

  private answerFor (kernelId: string, response: ServerResponse): void {
    const behaviour = this.behaviourOf(kernelId)
    const answer = { agent_id: this.agentId, kernel_id: kernelId, running: claimedRunning(behaviour) }
    switch (behaviour) {
      case 'hang':
        return // never answered; closed with the server
      case 'error':
        return sendJson(response, 500, { detail: 'simulated failure' })
      case 'garbage':
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(GARBAGE)
        return
      case 'impostor':
        return sendJson(response, 200, { ...answer, agent_id: this.impostorId })
      case 'half-close':
        return dropMidAnswer(response)
      default:
        sendJson(response, 200, answer)
    }
  }

  private async answerBatch (request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.options.batch === false) {
      return sendJson(response, this.options.batchUnsupportedStatus ?? 404, { detail: 'this agent checks one kernel at a time' })
    }
    // A body that is not JSON throws here, and the server answers 400.
    const { agent_id: agentId, kernel_ids: kernelIds } = (await readJson(request) ?? {}) as BatchRequest
    if (!Array.isArray(kernelIds) || !kernelIds.every((kernelId) => typeof kernelId === 'string')) {
      return sendJson(response, 400, { detail: 'kernel_ids must be an array of strings' })
    }
    // A missing agent_id is not this agent, as a missing `agent_id` query is on the per-kernel route.
    if (agentId !== this.agentId) return this.notThisAgent(response)
    this.takeCall(kernelIds.length)
    this.batchCallsServed++
    this.afterDelay(() => { this.answerBatchFor(kernelIds, response) })
  }

  private answerBatchFor (kernelIds: readonly string[], response: ServerResponse): void {
    const asked = kernelIds.map((kernelId) => [kernelId, this.behaviourOf(kernelId)] as const)
    const fault = CALL_FAULTS.find((callFault) => asked.some(([, behaviour]) => behaviour === callFault))
    if (fault === 'hang') return // never answered; closed with the server
    if (fault === 'half-close') return dropMidAnswer(response)
    const running = Object.fromEntries(asked.flatMap(([kernelId, behaviour]) => {
      const entry = batchEntry(behaviour)
      return entry === undefined ? [] : [[kernelId, entry]]
    }))
    sendJson(response, 200, { agent_id: fault === 'impostor' ? this.impostorId : this.agentId, running })
  }

  /** A batch-capable agent that does not host the agent id answers 404 on both routes (contract §5). */
  private notThisAgent (response: ServerResponse): void {
    sendJson(response, 404, { detail: `this is agent ${this.agentId}` })
  }

  private get impostorId (): AgentId {
    return `${this.agentId}-impostor`
  }

  /** A well-formed call for this agent, taken on: it counts even if it is never answered. */
  private takeCall (kernels: number): void {
    this.checksServed++
    this.kernelsAsked += kernels
  }

  /** `answerDelayMs` is waited once per call, whatever the number of kernels it asks about. */
  private afterDelay (answer: () => void): void {
    const delayMs = this.options.answerDelayMs ?? 0
    if (delayMs > 0) setTimeout(answer, delayMs)
    else answer()
  }

  private async answerAdmin (request: IncomingMessage, response: ServerResponse, kernelId?: string, action?: string): Promise<void> {
    if (kernelId === undefined) {
      if (request.method !== 'GET') return sendJson(response, 405, { detail: 'GET only' })
      return sendJson(response, 200, { agent_id: this.agentId, kernels: Object.fromEntries(this.kernels) })
    }
    const id = decodeURIComponent(kernelId)
    if (request.method === 'POST' && action === 'kill') this.kill(id)
    else if (request.method === 'POST' && action === 'hang') this.hang(id)
    else if (request.method === 'PUT' && action === undefined) {
      const { behaviour = 'running' } = await readJson(request) as { behaviour?: KernelBehaviour }
      if (!KERNEL_BEHAVIOURS.includes(behaviour)) return sendJson(response, 400, { detail: `behaviour must be one of ${KERNEL_BEHAVIOURS.join(', ')}` })
      this.setKernel(id, behaviour)
    } else if (request.method === 'DELETE' && action === undefined) this.kernels.delete(id.toLowerCase())
    else return sendJson(response, 405, { detail: 'PUT, DELETE, POST …/kill or POST …/hang' })
    sendJson(response, 200, { kernel_id: id, behaviour: this.behaviourOf(id) ?? null })
  }
}
