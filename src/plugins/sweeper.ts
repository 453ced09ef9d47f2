import type { FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import type { AgentClientPool } from '../agents/agent-client-pool.js'
import { HttpAgentClientPool } from '../agents/http-agent-client-pool.js'
import { InstrumentedAgentClientPool } from '../agents/instrumented-agent-client-pool.js'
import type { Config } from '../config.js'
import { backgroundSweep, pruneOlderThan } from '../coordinator/background-sweeper.js'
import { PeriodicTask } from '../coordinator/periodic-task.js'
import { ScheduleCoordinator } from '../coordinator/schedule-coordinator.js'
import { ScheduleMarker } from '../coordinator/schedule-marker.js'
import { agentAddressAllowList, type AgentAddressAllowList } from '../domain/agent-address.js'
import type { AgentId } from '../domain/kernel-info.js'
import { AGENT_DECOMMISSIONED_REASON, DecommissionAgentHandler } from '../handlers/decommission-agent.js'
import { AGENT_LOST_REASON, STALE_KERNEL_REASON, SweepStaleKernelsKernelHandler } from '../handlers/sweep-stale-kernels.js'
import { Metrics } from '../observability/metrics.js'
import { InProcessPresenceStore } from '../presence/in-process-presence-store.js'
import type { PresenceStore } from '../presence/presence-store.js'
import { ValkeyPresenceStore } from '../presence/valkey-presence-store.js'
import { SessionTerminator } from '../terminator/session-terminator.js'
import { waitForStore } from './store-startup.js'

declare module 'fastify' {
  interface FastifyInstance {
    sweeper: {
      readonly coordinator: ScheduleCoordinator
      readonly handler: SweepStaleKernelsKernelHandler
      /** The handler that decommissions one agent (rule 14), for the coordinator to run. */
      readonly decommissionHandler: (agentId: AgentId) => DecommissionAgentHandler
      readonly presence: PresenceStore
      /** Where presence is kept now, for operators (`/readyz`; through Sentinel the master in use): never credentials. */
      readonly presenceLocation: () => string
      /** `AGENT_ADDRESS_ALLOW`: the blocks a registered agent address must be in; null: any address. */
      readonly agentAddressAllow: AgentAddressAllowList | null
      /** The agents as stage 2 reaches them; told when one registers again. */
      readonly agentClients: Pick<AgentClientPool, 'forget'>
      readonly metrics: Metrics
    }
  }
}

const PRUNE_INTERVAL_MS = 10 * 60_000

/** How long shutdown lets running sweeps finish before it stops them short of writing. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 8_000

export interface SweeperPluginOptions {
  readonly config: Config
  /** How long shutdown waits for running sweeps before stopping them short of writing. */
  readonly shutdownGraceMs?: number
}

/** Presence, and where it is for operators (through Sentinel: the master in use, so asked each time). */
interface OpenedPresence {
  readonly store: PresenceStore
  readonly location: () => string
}

/** Valkey is waited for up to `STARTUP_TIMEOUT_SEC` (0: not at all, /readyz then says it is down). */
async function openPresenceStore (config: Config, logger: FastifyBaseLogger): Promise<OpenedPresence> {
  const rules = { stalenessSec: config.presenceStalenessSec, ttlSec: config.presenceTtlSec }
  const target = config.valkeySentinel !== null ? { sentinel: config.valkeySentinel } : config.valkeyUrl !== null ? { url: config.valkeyUrl } : null
  if (target === null) return { store: new InProcessPresenceStore(rules), location: () => 'in-process presence' }
  const store = new ValkeyPresenceStore({ ...target, ...rules, logger: logger.child({ store: 'presence' }) })
  const opened = { store, location: () => store.location() }
  // The first connection takes a moment; only a store still not there is worth a warning.
  if ((await store.waitUntilReady()) || config.startupTimeoutSec === 0) return opened
  try {
    await waitForStore({ store: 'presence', location: store.location(), probe: () => store.ping(), timeoutSec: config.startupTimeoutSec, logger })
  } catch (error) {
    await store.close()
    throw error
  }
  return opened
}

/** The composition root of a sweep: presence, agents, terminator, handler, coordinator, timers. */
export default fp<SweeperPluginOptions>(async (fastify, { config, shutdownGraceMs = DEFAULT_SHUTDOWN_GRACE_MS }) => {
  const { persistence } = fastify
  const metrics = new Metrics({ terminationReasons: [STALE_KERNEL_REASON, AGENT_LOST_REASON, AGENT_DECOMMISSIONED_REASON] })
  metrics.countAgentsWith(() => persistence.agents.countByStatus())
  const { store: presence, location: presenceLocation } = await openPresenceStore(config, fastify.log)
  metrics.probeStoresWith({ database: () => persistence.db.query('SELECT 1'), presence: () => presence.ping() })
  const httpAgents = new HttpAgentClientPool({
    directory: persistence.agents, timeoutMs: config.agentRpcTimeoutMs, batchRetryMs: config.agentBatchRetrySec * 1000,
  })
  const agentClientPool: AgentClientPool = new InstrumentedAgentClientPool(httpAgents, metrics)
  const logger = fastify.log
  const terminator = new SessionTerminator({
    presenceStore: presence,
    agentClientPool,
    agentStatuses: persistence.agents,
    agentRpcConcurrency: config.agentRpcConcurrency,
    agentRpcBatchSize: config.agentRpcBatchSize,
    logger,
  })
  const handler = new SweepStaleKernelsKernelHandler(terminator, logger)
  const scheduleMarker = new ScheduleMarker({ store: presence, needs: persistence.scheduleMarkNeeds, logger, metrics })
  const coordinator = new ScheduleCoordinator({
    kernels: persistence.kernels,
    agents: persistence.agents,
    stateEngine: persistence.stateEngine,
    sweeps: persistence.sweeps,
    confirmations: persistence.confirmations,
    events: persistence.events,
    scheduleMarkNeeds: persistence.scheduleMarkNeeds,
    db: persistence.db,
    locks: persistence.locks,
    scheduleMarker,
    guard: { maxRatio: config.guardMaxRatio, minKernels: config.guardMinKernels },
    requiredConfirmations: config.sweepConfirmations,
    lockLifetimeMs: config.sweepLockLifetimeSec * 1000,
    logger,
    metrics,
  })
  const tasks: PeriodicTask[] = [
    // Sweep records and events are pruned whether or not background sweeps run.
    new PeriodicTask(pruneOlderThan('sweep records', (before) => persistence.sweeps.pruneFinishedBefore(before), config.sweepRetentionHours * 3_600_000, logger), {
      name: 'prune-sweep-records', intervalMs: PRUNE_INTERVAL_MS, initialDelayMs: 60_000, logger,
    }),
    new PeriodicTask(pruneOlderThan('events', (before) => persistence.events.prune(before), config.eventRetentionHours * 3_600_000, logger), {
      name: 'prune-events', intervalMs: PRUNE_INTERVAL_MS, initialDelayMs: 60_000, logger,
    }),
  ]
  if (config.sweepIntervalSec > 0) {
    const intervalMs = config.sweepIntervalSec * 1000
    tasks.push(new PeriodicTask(backgroundSweep({ coordinator, handler, kernels: persistence.kernels, metrics, intervalMs, logger }), {
      name: 'background-sweeps', intervalMs, initialDelayMs: config.sweepInitialDelaySec * 1000, logger,
    }))
  }

  const decommissionHandler = (agentId: AgentId): DecommissionAgentHandler => new DecommissionAgentHandler(agentId, logger)
  fastify.decorate('sweeper', {
    coordinator,
    handler,
    decommissionHandler,
    presence,
    presenceLocation,
    agentAddressAllow: config.agentAddressAllow === null ? null : agentAddressAllowList(config.agentAddressAllow),
    agentClients: agentClientPool,
    metrics,
  })
  fastify.addHook('onReady', async () => {
    // A mark committed sweeps needed but a crash or restart kept from being set (rule 5).
    await scheduleMarker.markNeeded()
    for (const task of tasks) task.start()
  })
  // Sweeps are stopped in preClose: Fastify runs onClose only once every request in flight has
  // been answered, and a sweep request waiting on agents that never answer would hold it (and the
  // process) until it is killed. Here the grace runs out, the agent calls are aborted, the sweep is
  // recorded failed, its request is answered 503 and the server can close.
  fastify.addHook('preClose', async () => {
    // Together: a background pass blocked in a sweep ends only once the coordinator stops it.
    await Promise.all([...tasks.map((task) => task.stop()), coordinator.close(shutdownGraceMs)])
  })
  fastify.addHook('onClose', async () => {
    await httpAgents.close()
    await presence.close()
  })
}, { name: 'sweeper', dependencies: ['persistence'] })
