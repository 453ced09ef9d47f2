import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { HttpAgentClientPool } from '../../src/agents/http-agent-client-pool.js'
import { AgentSimulator } from '../../src/agents/simulator/agent-simulator.js'
import type { KernelInfo } from '../../src/domain/kernel-info.js'
import { SkipCause } from '../../src/domain/results.js'
import { AgentRepository } from '../../src/persistence/agent-repository.js'
import { ValkeyPresenceStore } from '../../src/presence/valkey-presence-store.js'
import { SessionTerminator } from '../../src/terminator/session-terminator.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'
import { runningKernel } from '../helpers/kernels.js'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'
import { freePort, skipWithoutRedis, testRedisDb } from '../helpers/redis.js'
import { KernelPages } from '../../src/domain/kernel-pages.js'

const REDIS_DB = 12
const STALENESS_SEC = 120

/**
 * The terminator with real parts: Valkey presence, agents registered in Postgres, asked over HTTP,
 * answered by simulated agents on real sockets.
 */
async function realWorld (t: Test, { agentRpcConcurrency = 32, timeoutMs = 300, batch = true } = {}) {
  const { url, raw } = await testRedisDb(t, REDIS_DB)
  const agents = new AgentRepository((await testDatabase(t)).open(), { lostAfterSec: 600 })
  const presenceStore = new ValkeyPresenceStore({ url, stalenessSec: STALENESS_SEC, ttlSec: 300 })
  await presenceStore.waitUntilReady()
  const agentClientPool = new HttpAgentClientPool({ directory: agents, timeoutMs })
  const logger = new CapturingLogger()
  const terminator = new SessionTerminator({ presenceStore, agentClientPool, agentStatuses: agents, agentRpcConcurrency, agentRpcBatchSize: 1000, logger })
  const simulators: AgentSimulator[] = []
  t.teardown(async () => {
    await agentClientPool.close()
    await presenceStore.close()
    await Promise.all(simulators.map((simulator) => simulator.close()))
  })

  return {
    terminator,
    logger,
    raw,
    /** Starts a simulated agent that sends its heartbeats to Valkey, and registers it. */
    async agent (agentId: string): Promise<AgentSimulator> {
      const simulator = await AgentSimulator.start({
        agentId,
        batch,
        reportPresence: async (agentId, kernels) => { await presenceStore.updateKernelPresenceBatch(agentId, kernels) },
      })
      simulators.push(simulator)
      await agents.upsert({ id: agentId, address: simulator.url, scalingGroup: 'default' })
      return simulator
    },
    async registerAt (agentId: string, address: string): Promise<void> {
      await agents.upsert({ id: agentId, address, scalingGroup: 'default' })
    },
    /** A heartbeat that stopped long enough ago to be STALE. */
    async staleHeartbeat (kernel: KernelInfo): Promise<void> {
      const [now] = await raw.time()
      await raw.hset(`kernel:presence:${kernel.id}`, 'presence', '1', 'last_presence', String(Number(now) - STALENESS_SEC - 60))
      await raw.expire(`kernel:presence:${kernel.id}`, 300)
    },
  }
}

const skip = (await skipWithoutPostgres()) || (await skipWithoutRedis())

// Every behaviour holds on both paths of contract §5: agents asked in batches, and v1 agents
// (no batch route) asked one kernel at a time.
for (const batch of [true, false]) {
  const path = batch ? 'batched' : 'per kernel'
  const realWorldOf = (t: Test, options: { agentRpcConcurrency?: number, timeoutMs?: number } = {}) => realWorld(t, { ...options, batch })

  t.test(`the two-stage check with real parts, ${path}`, { skip }, async (t) => {
    await t.test('SC-CSK-001 real: Valkey says all ALIVE, no agent is asked', async (t) => {
      const world = await realWorldOf(t)
      const a1 = await world.agent('a1')
      const [k1, k2] = [runningKernel('a1'), runningKernel('a1')]
      a1.setKernel(k1.id, 'running')
      a1.setKernel(k2.id, 'running')
      await a1.sendPresence()

      const check = await world.terminator.checkStaleKernels(KernelPages.of([k1, k2]))

      t.same(check.deadKernelIds, [])
      t.equal(a1.checksServed, 0, 'no agent verification')
    })

    await t.test('SC-CSK-002 real: STALE in Valkey, the agent confirms dead', async (t) => {
      const world = await realWorldOf(t)
      const a1 = await world.agent('a1')
      const k1 = runningKernel('a1')
      a1.setKernel(k1.id, 'running')
      await a1.sendPresence()
      a1.kill(k1.id)
      await world.staleHeartbeat(k1)

      const check = await world.terminator.checkStaleKernels(KernelPages.of([k1]))

      t.same(check.deadKernelIds, [k1.id])
      t.equal(a1.checksServed, 1, 'check_running asked once')
    })

    await t.test('SC-CSK-003 real: STALE in Valkey, the agent shows it still running', async (t) => {
      const world = await realWorldOf(t)
      const a1 = await world.agent('a1')
      const k1 = runningKernel('a1')
      a1.setKernel(k1.id, 'running')
      await world.staleHeartbeat(k1)

      const check = await world.terminator.checkStaleKernels(KernelPages.of([k1]))

      t.same(check.deadKernelIds, [], 'actually alive')
      t.same(check.skipped, [])
      t.equal(a1.checksServed, 1)
    })

    await t.test('SC-CSK-004 real: one agent refuses, the other confirms dead', async (t) => {
      const world = await realWorldOf(t)
      await world.registerAt('a1', `http://127.0.0.1:${await freePort()}`) // nothing listens there
      const a2 = await world.agent('a2')
      const [k1, k2] = [runningKernel('a1'), runningKernel('a2')]
      a2.kill(k2.id)
      await world.staleHeartbeat(k1)
      await world.staleHeartbeat(k2)

      const check = await world.terminator.checkStaleKernels(KernelPages.of([k1, k2]))

      t.same(check.deadKernelIds, [k2.id], 'k1 skipped, k2 confirmed dead')
      t.same(check.skipped, [{ kernelId: k1.id, cause: SkipCause.AGENT_ERROR }])
      const warnings = world.logger.at('warn')
      t.equal(warnings.length, 1, 'warning logged for k1')
      t.equal(warnings[0]?.fields['kernel_id'], k1.id)
    })

    await t.test('SC-CSK-005 real: a kernel without agent is skipped', async (t) => {
      const world = await realWorldOf(t)
      const a1 = await world.agent('a1')
      const k1 = runningKernel(null)
      await world.staleHeartbeat(k1)

      const check = await world.terminator.checkStaleKernels(KernelPages.of([k1]))

      t.same(check.deadKernelIds, [])
      t.same(check.skipped, [{ kernelId: k1.id, cause: SkipCause.NO_AGENT }])
      t.equal(a1.checksServed, 0, 'no agent asked')
    })

    await t.test('real faults: a hung agent, an impostor and a newcomer at a dead agent\'s address kill nothing', async (t) => {
      const world = await realWorldOf(t)
      // Each fault on an agent of its own: in a batch, a hung or lying agent spoils the whole call.
      const [a1, a2, a4] = [await world.agent('a1'), await world.agent('a2'), await world.agent('a4')]
      const newcomer = await world.agent('a9')
      await world.registerAt('a3', newcomer.url) // a3 died; a9 now listens at its address
      const [hung, impostor, orphan, dead] = [runningKernel('a1'), runningKernel('a2'), runningKernel('a3'), runningKernel('a4')]
      a1.hang(hung.id)
      a2.setKernel(impostor.id, 'impostor')
      a4.kill(dead.id)
      for (const kernel of [hung, impostor, orphan, dead]) await world.staleHeartbeat(kernel)

      const check = await world.terminator.checkStaleKernels(KernelPages.of([hung, impostor, orphan, dead]))

      t.same(check.deadKernelIds, [dead.id])
      t.same(check.skipped, [
        { kernelId: hung.id, cause: SkipCause.AGENT_TIMEOUT },
        { kernelId: impostor.id, cause: SkipCause.AGENT_MISMATCH },
        { kernelId: orphan.id, cause: SkipCause.AGENT_MISMATCH },
      ])
      t.equal(newcomer.kernelsAsked, 0, 'the newcomer refused to answer for another agent')
    })

    await t.test('the check is recorded in Valkey: last_check on kernels, last_check on agents', async (t) => {
      const world = await realWorldOf(t)
      const a1 = await world.agent('a1')
      const k1 = runningKernel('a1')
      a1.setKernel(k1.id, 'running')
      await a1.sendPresence()
      const [now] = await world.raw.time()
      await world.terminator.checkStaleKernels(KernelPages.of([k1]))
      t.ok(Number(await world.raw.hget(`kernel:presence:${k1.id}`, 'last_check')) >= Number(now))
      t.ok(Number(await world.raw.get('agent:last_check:a1')) >= Number(now))
    })

    await t.test('an agent answering with a repeated key kills nothing: skipped as agent_error', async (t) => {
      const world = await realWorldOf(t)
      const k1 = runningKernel('a1')
      const server = createServer((request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(request.method === 'POST'
          ? `{"agent_id":"a1","running":{"${k1.id}": true, "${k1.id}": false}}`
          : `{"agent_id":"a1","kernel_id":"${k1.id}","running": true, "running": false}`)
      })
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      t.teardown(() => { server.closeAllConnections(); server.close() })
      await world.registerAt('a1', `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
      await world.staleHeartbeat(k1)

      const check = await world.terminator.checkStaleKernels(KernelPages.of([k1]))

      t.same(check.deadKernelIds, [], 'JSON.parse would have read running: false')
      t.same(check.skipped, [{ kernelId: k1.id, cause: SkipCause.AGENT_ERROR }])
      t.match(world.logger.at('warn')[0]?.fields['err'], /appears more than once/)
    })

    await t.test('shutdown: no further agent asked, the call in flight abandoned, the check rejects with the reason', async (t) => {
      const world = await realWorldOf(t, { agentRpcConcurrency: 1, timeoutMs: 10_000 })
      // Three agents, so that there are three calls on either path, one at a time.
      const agents = [await world.agent('a1'), await world.agent('a2'), await world.agent('a3')]
      const kernels = agents.map((agent) => runningKernel(agent.agentId))
      for (const [index, kernel] of kernels.entries()) {
        agents[index]!.hang(kernel.id)
        await world.staleHeartbeat(kernel)
      }
      const callsServed = (): number => agents.reduce((sum, agent) => sum + agent.checksServed, 0)
      const shutdown = new AbortController()
      const reason = new Error('the service is shutting down')

      const pending = world.terminator.checkStaleKernels(KernelPages.of(kernels), shutdown.signal).catch((error: unknown) => error)
      while (callsServed() === 0) await sleep(10)
      const started = Date.now()
      shutdown.abort(reason)

      t.equal(await pending, reason, 'rejected with the signal\'s reason')
      t.ok(Date.now() - started < 500, `within ${Date.now() - started} ms, not the 10 s timeout`)
      await sleep(100)
      t.equal(callsServed(), 1, 'the two queued calls were never made')
      t.same(world.logger.at('warn'), [], 'no kernel is reported skipped: there is no verdict at all')
      t.equal(await world.terminator.checkStaleKernels(KernelPages.of(kernels), shutdown.signal).catch((error: unknown) => error), reason,
        'a check started after the abort rejects at once')
      t.equal(callsServed(), 1)
    })
  })
}
