import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { AGENT_STATUSES, type AgentStatus } from '../domain/agent.js'
import { SkipCause } from '../domain/results.js'
import type { SweepRecord } from '../domain/sweep.js'
import { PACKAGE_VERSION } from '../package-info.js'

/** How many agents of a scaling group are in a status, as the database has it at scrape time. */
export interface AgentStatusCount {
  readonly scalingGroup: string
  readonly status: AgentStatus
  readonly count: number
}

export type AgentStatusCounter = () => Promise<readonly AgentStatusCount[]>

/** A store's check at scrape time: resolves when it answers. */
export type StoreProbe = () => Promise<unknown>

export interface MetricsOptions {
  /** The reasons a kernel can be terminated for: their series exist from the start, at 0. */
  readonly terminationReasons?: readonly string[]
}

/** A heartbeat request (`POST /v1/agents/{id}/presence`): written, or refused (auth, body, store). */
export type HeartbeatOutcome = 'accepted' | 'refused'

/** A scrape waits at most this long for the agent counts; past it the gauge is left out of that scrape. */
const AGENT_COUNT_TIMEOUT_MS = 2_000
/** A store that has not answered a scrape's check within this is down for that scrape. */
const STORE_PROBE_TIMEOUT_MS = 1_000

/**
 * Most scaling groups named in labels. Any client with the API token can sweep a made-up group
 * (an empty sweep is a normal one), and every name would be a series kept forever: past this
 * many, further groups are counted together under `OTHER_GROUPS`.
 */
export const MAX_GROUP_LABELS = 1_000
/** Not a possible group name (those begin with a letter or digit), so it never mixes with one. */
export const OTHER_GROUPS = '_other'

/** The service's Prometheus metrics, in a registry of its own (so several apps can live in one process). */
export class Metrics {
  readonly registry = new Registry()

  readonly sweeps = new Counter({
    name: 'kernel_sweeper_sweeps_total',
    help: 'Sweeps run, by scaling group and outcome.',
    labelNames: ['scaling_group', 'outcome'] as const,
    registers: [this.registry],
  })

  readonly kernelsTerminated = new Counter({
    name: 'kernel_sweeper_kernels_terminated_total',
    help: 'Kernels moved to TERMINATED, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  })

  readonly kernelsSkipped = new Counter({
    name: 'kernel_sweeper_kernels_skipped_total',
    help: 'Suspect kernels left alone because their agent gave no verdict, by cause.',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  })

  readonly sweepDuration = new Histogram({
    name: 'kernel_sweeper_sweep_duration_seconds',
    help: 'Wall time of a sweep, lock to record.',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  })

  readonly agentRpcDuration = new Histogram({
    name: 'kernel_sweeper_agent_rpc_duration_seconds',
    help: 'Duration of agent running checks, per kernel or batched.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })

  readonly agentRpcErrors = new Counter({
    name: 'kernel_sweeper_agent_rpc_errors_total',
    help: 'Agent running checks that failed, by error.',
    labelNames: ['error'] as const,
    registers: [this.registry],
  })

  readonly lockBusy = new Counter({
    name: 'kernel_sweeper_lock_busy_total',
    help: 'Sweeps not started because another holds the scaling group\'s lock.',
    labelNames: ['scaling_group'] as const,
    registers: [this.registry],
  })

  readonly guardTrips = new Counter({
    name: 'kernel_sweeper_guard_trips_total',
    help: 'Sweeps stopped by the mass-termination guard.',
    labelNames: ['scaling_group'] as const,
    registers: [this.registry],
  })

  readonly scheduleMarkFailures = new Counter({
    name: 'kernel_sweeper_schedule_mark_failures_total',
    help: 'Failed attempts to set a schedule mark after terminations (retried in the background).',
    registers: [this.registry],
  })

  readonly httpRequestDuration = new Histogram({
    name: 'kernel_sweeper_http_request_duration_seconds',
    help: 'HTTP requests answered, by method, route (the path template; "unmatched" for none) and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  })

  readonly heartbeats = new Counter({
    name: 'kernel_sweeper_heartbeat_requests_total',
    help: 'Presence requests from agents, by outcome: accepted (written) or refused (authentication, body, or presence store).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  })

  readonly lastSuccessfulSweep = new Gauge({
    name: 'kernel_sweeper_last_successful_sweep_timestamp_seconds',
    help: 'When the newest completed sweep of a scaling group finished (Unix time), as this instance saw it; a group left without RUNNING kernels is dropped until its next completed sweep.',
    labelNames: ['scaling_group'] as const,
    registers: [this.registry],
  })

  readonly buildInfo = new Gauge({
    name: 'kernel_sweeper_build_info',
    help: 'Always 1; the labels say which build runs.',
    labelNames: ['version', 'node_version'] as const,
    registers: [this.registry],
  })

  /** Checked at every scrape, like `/readyz`: 1 when the store answered within a second, else 0. */
  readonly storeUp = new Gauge({
    name: 'kernel_sweeper_store_up',
    help: 'Whether a store answered its check at scrape time (1) or not (0), by store: database, presence.',
    labelNames: ['store'] as const,
    registers: [this.registry],
    collect: () => this.collectStores(),
  })

  readonly agentCountFailures = new Counter({
    name: 'kernel_sweeper_agents_count_failures_total',
    help: 'Scrapes in which the agents by status could not be counted (the kernel_sweeper_agents gauge is then left out).',
    registers: [this.registry],
  })

  /**
   * Read from the database at every scrape, so every instance reports the same and nothing is
   * stale: each group that has agents gets a series per status, 0 included.
   */
  readonly agents = new Gauge({
    name: 'kernel_sweeper_agents',
    help: 'Registered agents, by scaling group and status (ALIVE, UNREACHABLE, LOST, DECOMMISSIONED), counted at scrape time.',
    labelNames: ['scaling_group', 'status'] as const,
    registers: [this.registry],
    collect: () => this.collectAgents(),
  })

  private countAgents: AgentStatusCounter | undefined
  private storeProbes: Readonly<Record<string, StoreProbe>> = {}
  private readonly groupsNamed = new Set<string>()
  /** The labels `lastSuccessfulSweep` has a series for. */
  private readonly groupsSweptSuccessfully = new Set<string>()

  constructor (options: MetricsOptions = {}) {
    collectDefaultMetrics({ register: this.registry })
    this.buildInfo.set({ version: PACKAGE_VERSION, node_version: process.version }, 1)
    // Series that exist before their first event, so a rate() or an alert sees 0, not nothing.
    for (const reason of options.terminationReasons ?? []) this.kernelsTerminated.inc({ reason }, 0)
    for (const cause of Object.values(SkipCause)) this.kernelsSkipped.inc({ cause }, 0)
    for (const outcome of ['accepted', 'refused'] as const) this.heartbeats.inc({ outcome }, 0)
  }

  /** How `kernel_sweeper_store_up` checks each store at scrape time. */
  probeStoresWith (probes: Readonly<Record<string, StoreProbe>>): void {
    this.storeProbes = probes
  }

  requestAnswered (method: string, route: string | undefined, status: number, seconds: number): void {
    this.httpRequestDuration.observe({ method, route: route ?? 'unmatched', status: String(status) }, seconds)
  }

  heartbeat (outcome: HeartbeatOutcome): void {
    this.heartbeats.inc({ outcome })
  }

  private async collectStores (): Promise<void> {
    await Promise.all(Object.entries(this.storeProbes).map(async ([store, probe]) => {
      const up = await withTimeout(probe(), STORE_PROBE_TIMEOUT_MS).then(() => 1, () => 0)
      this.storeUp.set({ store }, up)
    }))
  }

  /** How `kernel_sweeper_agents` is counted at scrape time; without it the gauge has no series. */
  countAgentsWith (counter: AgentStatusCounter): void {
    this.countAgents = counter
  }

  private async collectAgents (): Promise<void> {
    this.agents.reset()
    if (this.countAgents === undefined) return
    let counts: readonly AgentStatusCount[]
    try {
      counts = await withTimeout(this.countAgents(), AGENT_COUNT_TIMEOUT_MS)
    } catch {
      this.agentCountFailures.inc()
      return
    }
    for (const group of new Set(counts.map((count) => this.groupLabel(count.scalingGroup)))) {
      for (const status of AGENT_STATUSES) this.agents.set({ scaling_group: group, status }, 0)
    }
    for (const { scalingGroup, status, count } of counts) this.agents.inc({ scaling_group: this.groupLabel(scalingGroup), status }, count)
  }

  lockWasBusy (scalingGroup: string): void {
    this.lockBusy.inc({ scaling_group: this.groupLabel(scalingGroup) })
  }

  sweepFinished (record: SweepRecord): void {
    const group = this.groupLabel(record.scalingGroup)
    this.sweeps.inc({ scaling_group: group, outcome: record.outcome })
    this.sweepDuration.observe({ outcome: record.outcome }, (record.finishedAt.getTime() - record.startedAt.getTime()) / 1000)
    if (record.outcome === 'guard_tripped') this.guardTrips.inc({ scaling_group: group })
    if (record.outcome === 'completed') {
      this.lastSuccessfulSweep.set({ scaling_group: group }, record.finishedAt.getTime() / 1000)
      this.groupsSweptSuccessfully.add(group)
    }
    const terminated = new Set(record.terminated)
    for (const failure of record.result.failures) {
      if (terminated.has(failure.kernelId)) this.kernelsTerminated.inc({ reason: failure.reason ?? 'kernel_handler_failure' })
    }
    for (const skipped of record.result.skipped) this.kernelsSkipped.inc({ cause: skipped.cause })
  }

  /**
   * The groups a background pass sweeps (those with RUNNING kernels). The last-successful-sweep
   * series of any other group is dropped: a group that emptied is not swept any more, and its
   * ever older timestamp would read as sweeps that stopped (the `KernelSweeperNoSuccessfulSweep`
   * alert). It comes back with the group's next completed sweep.
   */
  sweepingGroups (scalingGroups: readonly string[]): void {
    const current = new Set(scalingGroups.map((group) => this.labelOf(group)))
    for (const group of this.groupsSweptSuccessfully) {
      if (current.has(group)) continue
      this.lastSuccessfulSweep.remove({ scaling_group: group })
      this.groupsSweptSuccessfully.delete(group)
    }
  }

  /** The group's own label while fewer than `MAX_GROUP_LABELS` are named, `OTHER_GROUPS` after. */
  private groupLabel (scalingGroup: string): string {
    const label = this.labelOf(scalingGroup)
    if (label === scalingGroup) this.groupsNamed.add(scalingGroup)
    return label
  }

  /** The label `groupLabel` gives the group, without naming it. */
  private labelOf (scalingGroup: string): string {
    return this.groupsNamed.has(scalingGroup) || this.groupsNamed.size < MAX_GROUP_LABELS ? scalingGroup : OTHER_GROUPS
  }
}

function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`no answer within ${ms} ms`)) }, ms)
  })
  return Promise.race([promise, timeout]).finally(() => { clearTimeout(timer) })
}
