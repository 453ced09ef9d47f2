import fp from 'fastify-plugin'
import type { AgentClientPool } from '../agents/agent-client-pool.js'
import { HttpAgentClientPool } from '../agents/http-agent-client-pool.js'
import { InstrumentedAgentClientPool } from '../agents/instrumented-agent-client-pool.js'
import type { Config } from '../config.js'
import { BackgroundSweeper } from '../coordinator/background-sweeper.js'
import { ScheduleCoordinator } from '../coordinator/schedule-coordinator.js'
import { ScheduleMarker } from '../coordinator/schedule-marker.js'
import { SweepStaleKernelsKernelHandler } from '../handlers/sweep-stale-kernels.js'
import { Metrics } from '../observability/metrics.js'
import { InProcessPresenceStore } from '../presence/in-process-presence-store.js'
import type { PresenceStore } from '../presence/presence-store.js'
import { ValkeyPresenceStore } from '../presence/valkey-presence-store.js'
import { SessionTerminator } from '../terminator/session-terminator.js'

declare module 'fastify' {
  interface FastifyInstance {
    sweeper: {
      readonly coordinator: ScheduleCoordinator
      readonly handler: SweepStaleKernelsKernelHandler
      readonly presence: PresenceStore
      readonly metrics: Metrics
      readonly background: BackgroundSweeper | null
    }
  }
}

export interface SweeperPluginOptions {
  readonly config: Config
  /** How long shutdown waits for running sweeps before stopping them short of writing. */
  readonly shutdownGraceMs?: number
}

async function openPresenceStore (config: Config): Promise<PresenceStore> {
  if (config.valkeyUrl === null) {
    return new InProcessPresenceStore({ stalenessSec: config.presenceStalenessSec, ttlSec: config.presenceTtlSec })
  }
  const store = new ValkeyPresenceStore({ url: config.valkeyUrl, stalenessSec: config.presenceStalenessSec, ttlSec: config.presenceTtlSec })
  await store.waitUntilReady() // a Valkey that is down does not stop the start; /readyz says so
  return store
}

/** The composition root of a sweep: presence, agents, terminator, handler, coordinator, timers. */
export default fp<SweeperPluginOptions>(async (fastify, { config, shutdownGraceMs = 8_000 }) => {
  const { persistence } = fastify
  const metrics = new Metrics()
  const presence = await openPresenceStore(config)
  const httpAgents = new HttpAgentClientPool({ directory: persistence.agents, timeoutMs: config.agentRpcTimeoutMs })
  const agentClientPool: AgentClientPool = new InstrumentedAgentClientPool(httpAgents, metrics)
  const logger = fastify.log
  const terminator = new SessionTerminator({ presenceStore: presence, agentClientPool, agentRpcConcurrency: config.agentRpcConcurrency, logger })
  const handler = new SweepStaleKernelsKernelHandler(terminator, logger)
  const coordinator = new ScheduleCoordinator({
    kernels: persistence.kernels,
    stateEngine: persistence.stateEngine,
    sweeps: persistence.sweeps,
    locks: persistence.locks,
    scheduleMarker: new ScheduleMarker({ store: presence, logger, metrics }),
    guard: { maxRatio: config.guardMaxRatio, minKernels: config.guardMinKernels },
    lockLifetimeMs: config.sweepLockLifetimeSec * 1000,
    logger,
    metrics,
  })
  const background = config.sweepIntervalSec === 0
    ? null
    : new BackgroundSweeper({
      coordinator,
      handler,
      kernels: persistence.kernels,
      sweeps: persistence.sweeps,
      intervalMs: config.sweepIntervalSec * 1000,
      initialDelayMs: config.sweepInitialDelaySec * 1000,
      retentionMs: config.sweepRetentionHours * 3_600_000,
      logger,
    })

  fastify.decorate('sweeper', { coordinator, handler, presence, metrics, background })
  fastify.addHook('onReady', async () => { background?.start() })
  fastify.addHook('onClose', async () => {
    await background?.stop()
    await coordinator.close(shutdownGraceMs)
    await httpAgents.close()
    await presence.close()
  })
}, { name: 'sweeper', dependencies: ['persistence'] })
