import t, { type Test } from 'tap'
import { HttpAgentClientPool } from '../../src/agents/http-agent-client-pool.js'
import { AgentSimulator, type KernelBehaviour } from '../../src/agents/simulator/agent-simulator.js'
import type { AgentStatus } from '../../src/domain/agent.js'
import type { AgentId, KernelId, KernelInfo } from '../../src/domain/kernel-info.js'
import { SkipCause } from '../../src/domain/results.js'
import { InProcessPresenceStore } from '../../src/presence/in-process-presence-store.js'
import { SessionTerminator } from '../../src/terminator/session-terminator.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'
import { ContractAgent, InFlight, LEFT_OUT, type ContractAgentOptions } from '../helpers/contract-agent.js'
import { runningKernel } from '../helpers/kernels.js'
import { freePort } from '../helpers/redis.js'
import { KernelPages } from '../../src/domain/kernel-pages.js'

/*
 * Issue 13, item 1: stage 2 over the batched agent RPC of contract §5 and its per-kernel fallback,
 * with the real HTTP client pool talking to agents on real sockets (scripted ones that record every
 * request, and the agent simulator). Presence is the in-process store with no heartbeat at all, so
 * every kernel is a suspect and goes to its agent.
 */

interface WorldOptions {
  readonly concurrency?: number
  readonly batchSize?: number
  readonly timeoutMs?: number
  readonly batchRetryMs?: number
}

async function world (t: Test, { concurrency = 32, batchSize = 1000, timeoutMs = 500, batchRetryMs = 600_000 }: WorldOptions = {}) {
  const addresses = new Map<AgentId, string>()
  const statuses = new Map<AgentId, AgentStatus>()
  const clock = { ms: Date.now() }
  const pool = new HttpAgentClientPool({
    directory: { addressesOf: async (agentIds) => new Map(agentIds.flatMap((agentId) => addresses.has(agentId) ? [[agentId, addresses.get(agentId)!] as const] : [])) },
    timeoutMs,
    batchRetryMs,
    now: () => clock.ms,
  })
  t.teardown(() => pool.close())
  const presenceStore = new InProcessPresenceStore({ stalenessSec: 120, ttlSec: 300 })
  const logger = new CapturingLogger()
  const terminator = new SessionTerminator({
    presenceStore,
    agentClientPool: pool,
    agentStatuses: { statusesOf: async (agentIds) => new Map(agentIds.flatMap((id) => statuses.has(id) ? [[id, statuses.get(id)!] as const] : [])) },
    agentRpcConcurrency: concurrency,
    agentRpcBatchSize: batchSize,
    logger,
  })
  const simulators: AgentSimulator[] = []
  t.teardown(() => Promise.all(simulators.map((simulator) => simulator.close())))
  return {
    terminator,
    pool,
    logger,
    clock,
    presenceStore,
    register (agentId: AgentId, address: string): void { addresses.set(agentId, address) },
    /** A scripted agent, registered. */
    async agent (agentId: AgentId, options: ContractAgentOptions = {}): Promise<ContractAgent> {
      const agent = await ContractAgent.start(t, agentId, options)
      addresses.set(agentId, agent.url)
      return agent
    },
    /** A simulated agent, registered. */
    async simulator (agentId: AgentId, options: { batch?: boolean, batchUnsupportedStatus?: 404 | 405 | 501 } = {}): Promise<AgentSimulator> {
      const simulator = await AgentSimulator.start({ agentId, ...options })
      simulators.push(simulator)
      addresses.set(agentId, simulator.url)
      return simulator
    },
  }
}

/** `count` kernels of `agentId`, every one a suspect (no heartbeat). */
const kernelsOf = (agentId: AgentId, count: number): KernelInfo[] => Array.from({ length: count }, () => runningKernel(agentId))
const idsOf = (kernels: readonly KernelInfo[]): KernelId[] => kernels.map((kernel) => kernel.id)
const skips = (cause: SkipCause, kernels: readonly KernelInfo[]) => kernels.map((kernel) => ({ kernelId: kernel.id, cause }))

/** Kernels on a simulator, each with its behaviour. */
function onSimulator (simulator: AgentSimulator, behaviours: readonly KernelBehaviour[]): KernelInfo[] {
  return behaviours.map((behaviour) => {
    const kernel = runningKernel(simulator.agentId)
    simulator.setKernel(kernel.id, behaviour)
    return kernel
  })
}

t.test('one agent\'s suspects go in as few batch calls of at most AGENT_RPC_BATCH_SIZE ids as possible, each kernel once, none one by one', async (t) => {
  for (const [count, calls] of [[1, 1], [1000, 1], [1001, 2], [2500, 3]] as const) {
    await t.test(`${count} suspects, batch size 1000: ${calls} call(s)`, async (t) => {
      const w = await world(t, { batchSize: 1000 })
      const agent = await w.agent('a1')
      const kernels = kernelsOf('a1', count)
      const alive = kernels.filter((_, index) => index % 5 === 0)
      for (const kernel of alive) agent.answers.set(kernel.id, true)

      const check = await w.terminator.checkStaleKernels(KernelPages.of(kernels))

      t.equal(agent.posts.length, calls, `exactly ${calls} batch call(s)`)
      t.ok(agent.batches.every((batch) => batch.length <= 1000), `sizes ${agent.batches.map((batch) => batch.length).join(', ')}: none over 1000`)
      t.same(agent.batches.flat().sort(), idsOf(kernels).sort(), 'every suspect asked exactly once')
      t.equal(agent.gets.length, 0, 'no per-kernel call')
      t.same(check.deadKernelIds, idsOf(kernels.filter((kernel) => !alive.includes(kernel))), 'every false is dead, in input order')
      t.same(check.skipped, [])
      t.same(check.reachability, { reached: ['a1'], unreachable: [] })
    })
  }
})

t.test('AGENT_RPC_CONCURRENCY counts calls, a batch as one: never more in flight at the agents, and the bound is used', async (t) => {
  await t.test('8 batch agents at concurrency 2: 8 calls, at most 2 at once', async (t) => {
    const w = await world(t, { concurrency: 2 })
    const inFlight = new InFlight()
    const agents = await Promise.all(Array.from({ length: 8 }, (_, i) => w.agent(`a${i}`, { delayMs: 50, inFlight })))
    const kernels = agents.flatMap((agent) => kernelsOf(agent.agentId, 5))

    const started = Date.now()
    const check = await w.terminator.checkStaleKernels(KernelPages.of(kernels))
    const elapsed = Date.now() - started

    t.same(agents.map((agent) => agent.requests.length), agents.map(() => 1), 'one call per agent, 40 kernels')
    t.equal(inFlight.peak, 2, 'two calls in flight at most, and two at some point')
    t.ok(elapsed >= 4 * 50, `4 waves of 50 ms: ${elapsed} ms`)
    t.equal(check.deadKernelIds.length, 40)
  })

  await t.test('one agent, batch size 2, concurrency 3: 5 calls for 10 kernels, at most 3 at once', async (t) => {
    const w = await world(t, { concurrency: 3, batchSize: 2 })
    const agent = await w.agent('a1', { delayMs: 50 })
    const check = await w.terminator.checkStaleKernels(KernelPages.of(kernelsOf('a1', 10)))
    t.equal(agent.posts.length, 5)
    t.equal(agent.inFlight.peak, 3, 'the batches of one agent share the bound')
    t.equal(check.deadKernelIds.length, 10)
  })

  await t.test('v1 agents at concurrency 2: the refused batch calls and the per-kernel fallback stay within the bound', async (t) => {
    const w = await world(t, { concurrency: 2 })
    const inFlight = new InFlight()
    const agents = [
      await w.agent('v404', { batchRoute: 404, delayMs: 30, inFlight }),
      await w.agent('v405', { batchRoute: 405, delayMs: 30, inFlight }),
      await w.agent('v501', { batchRoute: 501, delayMs: 30, inFlight }),
    ]
    const kernels = agents.flatMap((agent) => kernelsOf(agent.agentId, 3))
    const check = await w.terminator.checkStaleKernels(KernelPages.of(kernels))
    t.same(agents.map((agent) => [agent.posts.length, agent.gets.length]), agents.map(() => [1, 3]), 'each: one refused batch call, then 3 per kernel')
    t.equal(inFlight.peak, 2, 'at most 2 calls in flight, and 2 at some point')
    t.same(check.deadKernelIds, idsOf(kernels))
  })
})

t.test('a kernel left out of a batch answer, or given a value that is not a boolean, is agent_error alone; the others of the call are decided', async (t) => {
  await t.test('scripted answers', async (t) => {
    const w = await world(t)
    const agent = await w.agent('a1')
    const [dead, alive, leftOut, quoted, nulled, zero, one, object] = kernelsOf('a1', 8) as [KernelInfo, ...KernelInfo[]]
    agent.answers.set(alive!.id, true)
    agent.answers.set(leftOut!.id, LEFT_OUT)
    agent.answers.set(quoted!.id, 'false')
    agent.answers.set(nulled!.id, null)
    agent.answers.set(zero!.id, 0)
    agent.answers.set(one!.id, 1)
    agent.answers.set(object!.id, { running: false })
    const kernels = [dead, alive!, leftOut!, quoted!, nulled!, zero!, one!, object!]

    const check = await w.terminator.checkStaleKernels(KernelPages.of(kernels))

    t.equal(agent.posts.length, 1, 'one call')
    t.same(check.deadKernelIds, [dead.id], 'only the explicit false kills')
    t.same(check.skipped, skips(SkipCause.AGENT_ERROR, [leftOut!, quoted!, nulled!, zero!, one!, object!]), 'the others are agent_error, each alone')
    t.same(check.reachability, { reached: ['a1'], unreachable: [] }, 'the call named its agent: reached')
    t.same(w.logger.at('warn').map((entry) => entry.fields['kernel_id']).sort(), idsOf([leftOut!, quoted!, nulled!, zero!, one!, object!]).sort(),
      'one warning per kernel left alone')
    t.equal(agent.gets.length, 0, 'not asked again one by one')
  })

  await t.test('the simulator\'s error (left out) and garbage (not a boolean) kernels', async (t) => {
    const w = await world(t)
    const simulator = await w.simulator('a1')
    const [error, dead, garbage, running] = onSimulator(simulator, ['error', 'dead', 'garbage', 'running'])
    const check = await w.terminator.checkStaleKernels(KernelPages.of([error!, dead!, garbage!, running!]))
    t.same(check.deadKernelIds, [dead!.id])
    t.same(check.skipped, skips(SkipCause.AGENT_ERROR, [error!, garbage!]))
    t.same([simulator.batchCallsServed, simulator.checksServed], [1, 1], 'one batch call, nothing per kernel')
  })
})

t.test('a batch answer naming another agent: every kernel of that call is agent_mismatch, the agent\'s other calls decided', async (t) => {
  const w = await world(t, { batchSize: 2 })
  const a1 = await w.simulator('a1')
  const a2 = await w.simulator('a2')
  // Batches of two, in input order: [impostor, dead] and [dead, running] for a1; a2 lies on its only call.
  const [impostor, spoilt, dead, running] = onSimulator(a1, ['impostor', 'dead', 'dead', 'running'])
  const [lying, lyingDead] = onSimulator(a2, ['impostor', 'dead'])

  const check = await w.terminator.checkStaleKernels(KernelPages.of([impostor!, spoilt!, dead!, running!, lying!, lyingDead!]))

  t.same(check.deadKernelIds, [dead!.id], 'the simulator said false for every impostor call\'s kernel: none of them dies')
  t.same(check.skipped, skips(SkipCause.AGENT_MISMATCH, [impostor!, spoilt!, lying!, lyingDead!]), 'every kernel of a lying call')
  t.same(check.reachability, { reached: ['a1'], unreachable: ['a2'] }, 'a1 answered as itself once; a2 never did (rule 12)')
  t.same([a1.batchCallsServed, a1.checksServed, a2.batchCallsServed, a2.checksServed], [2, 2, 1, 1], 'batch calls only')
  const warnings = w.logger.at('warn')
  t.equal(warnings.length, 2, 'one warning per lying call')
  t.same(warnings.map((entry) => [...entry.fields['kernel_ids'] as string[]].sort()), [idsOf([impostor!, spoilt!]).sort(), idsOf([lying!, lyingDead!]).sort()])
})

t.test('a batch call that times out: every kernel of that call is agent_timeout, within the timeout; the agent\'s other calls decided', async (t) => {
  const w = await world(t, { batchSize: 2, timeoutMs: 300 })
  const a1 = await w.simulator('a1')
  const a2 = await w.simulator('a2')
  const [hung, stuck, dead, running] = onSimulator(a1, ['hang', 'dead', 'dead', 'running'])
  const [hungToo, stuckToo] = onSimulator(a2, ['hang', 'running'])

  const started = Date.now()
  const check = await w.terminator.checkStaleKernels(KernelPages.of([hung!, stuck!, dead!, running!, hungToo!, stuckToo!]))
  const elapsed = Date.now() - started

  t.ok(elapsed >= 250 && elapsed < 1_000, `bounded by the 300 ms timeout: ${elapsed} ms`)
  t.same(check.deadKernelIds, [dead!.id])
  t.same(check.skipped, skips(SkipCause.AGENT_TIMEOUT, [hung!, stuck!, hungToo!, stuckToo!]))
  t.same(check.reachability, { reached: ['a1'], unreachable: ['a2'] })
  t.equal(a1.checksServed + a2.checksServed, 3, 'three batch calls, no per-kernel retry of a timed-out batch')
})

t.test('an agent without the batch route (404, 405, 501) is asked one kernel at a time in the same check, and not offered the batch route again', async (t) => {
  for (const status of [404, 405, 501] as const) {
    await t.test(`HTTP ${status}`, async (t) => {
      const w = await world(t, { batchRetryMs: 60_000 })
      const agent = await w.agent('a1', { batchRoute: status })
      const [dead, alive, deadToo] = kernelsOf('a1', 3) as [KernelInfo, KernelInfo, KernelInfo]
      agent.answers.set(alive.id, true)

      const first = await w.terminator.checkStaleKernels(KernelPages.of([dead, alive, deadToo]))
      t.same(first.deadKernelIds, [dead.id, deadToo.id], 'its dead kernels found dead in the same check')
      t.same(first.skipped, [], 'no skip for the signal')
      t.same(first.reachability, { reached: ['a1'], unreachable: [] })
      t.equal(agent.posts.length, 1, 'the batch route was tried once')
      t.same(agent.askedOneByOne.sort(), idsOf([dead, alive, deadToo]).sort(), 'then each kernel per kernel')
      t.same(w.logger.at('warn'), [], 'the signal is not worth a warning')

      const second = await w.terminator.checkStaleKernels(KernelPages.of([dead, alive, deadToo]))
      t.same(second.deadKernelIds, [dead.id, deadToo.id])
      t.equal(agent.posts.length, 1, 'the next check does not offer it the batch route: the server saw no POST')
      t.equal(agent.gets.length, 6, 'asked per kernel straight away')

      w.clock.ms += 60_000
      const third = await w.terminator.checkStaleKernels(KernelPages.of([dead, alive, deadToo]))
      t.same(third.deadKernelIds, [dead.id, deadToo.id])
      t.equal(agent.posts.length, 2, 'once AGENT_BATCH_RETRY_SEC has passed the batch route is tried again')
      t.equal(agent.gets.length, 9)
    })
  }

  await t.test('suspects in several batches: each kernel asked one by one exactly once, whatever the order of the calls', async (t) => {
    const w = await world(t, { batchSize: 2, concurrency: 8 })
    const agent = await w.agent('a1', { batchRoute: 405 })
    const kernels = kernelsOf('a1', 5)
    const check = await w.terminator.checkStaleKernels(KernelPages.of(kernels))
    t.same(check.deadKernelIds, idsOf(kernels))
    t.same(agent.askedOneByOne.sort(), idsOf(kernels).sort(), 'every kernel once, none twice')
    t.ok(agent.posts.length >= 1 && agent.posts.length <= 3, `${agent.posts.length} batch call(s) were in flight before the first 405 came back`)
  })

  await t.test('suspects in several batches, one call at a time: once the agent said 405, the later batches are not offered to it', async (t) => {
    // With AGENT_RPC_CONCURRENCY 1 the second batch call would be sent after the first one's 405
    // has come back: the service already knows the agent has no batch route (contract §5).
    const w = await world(t, { batchSize: 2, concurrency: 1 })
    const agent = await w.agent('a1', { batchRoute: 405 })
    const kernels = kernelsOf('a1', 5)
    const check = await w.terminator.checkStaleKernels(KernelPages.of(kernels))
    t.same(check.deadKernelIds, idsOf(kernels))
    t.same(agent.askedOneByOne.sort(), idsOf(kernels).sort())
    t.equal(agent.posts.length, 1, 'one batch call, not one per batch')
  })

  await t.test('the simulator as a v1 agent (batch: false), on every signal', async (t) => {
    const w = await world(t)
    for (const status of [404, 405, 501] as const) {
      const simulator = await w.simulator(`v${status}`, { batch: false, batchUnsupportedStatus: status })
      const [dead, running] = onSimulator(simulator, ['dead', 'running'])
      const check = await w.terminator.checkStaleKernels(KernelPages.of([dead!, running!]))
      t.same(check.deadKernelIds, [dead!.id], `${status}: dead found dead`)
      t.same(check.skipped, [], `${status}: nothing skipped`)
      t.same([simulator.batchCallsServed, simulator.checksServed, simulator.kernelsAsked], [0, 2, 2], `${status}: asked per kernel`)
    }
  })
})

t.test('the fallback signal alone never makes an agent unreachable (rule 12)', async (t) => {
  for (const status of [404, 405, 501] as const) {
    await t.test(`HTTP ${status} on the batch route`, async (t) => {
      const w = await world(t)
      const answering = await w.agent('answering', { batchRoute: status })
      const failing = await w.agent('failing', { batchRoute: status })
      failing.kernelStatus = 500
      const [mine] = kernelsOf('answering', 1)
      answering.answers.set(mine!.id, true)
      const theirs = kernelsOf('failing', 2)

      const check = await w.terminator.checkStaleKernels(KernelPages.of([mine!, ...theirs]))

      t.same(check.deadKernelIds, [])
      t.same(check.skipped, skips(SkipCause.AGENT_ERROR, theirs), 'the 500s per kernel decide: agent_error')
      t.same(check.reachability, { reached: ['answering'], unreachable: [] },
        'then 200 per kernel: reached; then 500 per kernel: neither reached nor unreachable')
    })
  }
})

t.test('a batch-capable agent that does not host the agent id (404 on both routes): agent_mismatch, and unreachable (rule 12)', async (t) => {
  const w = await world(t)
  const newcomer = await w.agent('b1') // took over the address a3 was registered at
  w.register('a3', newcomer.url)
  const simulated = await w.simulator('b2')
  w.register('a4', simulated.url)
  const orphans = kernelsOf('a3', 2)
  const simulatedOrphans = kernelsOf('a4', 2)

  const check = await w.terminator.checkStaleKernels(KernelPages.of([...orphans, ...simulatedOrphans]))

  t.same(check.deadKernelIds, [])
  t.same(check.skipped, skips(SkipCause.AGENT_MISMATCH, [...orphans, ...simulatedOrphans]))
  t.same(check.reachability, { reached: [], unreachable: ['a3', 'a4'] })
  t.equal(newcomer.posts.length, 1, 'the batch route was tried: 404')
  t.equal(newcomer.gets.length, 2, 'then each kernel: 404 again')
  t.equal(simulated.kernelsAsked, 0, 'the simulator answered nothing for another agent')
})

t.test('a batch answer naming the agent but malformed is agent_error, and the agent was reached (rule 12)', async (t) => {
  const cases: Array<[string, (kernelIds: readonly string[]) => string]> = [
    ['running is an array', (kernelIds) => JSON.stringify({ agent_id: 'a1', running: kernelIds })],
    ['running is missing', () => JSON.stringify({ agent_id: 'a1' })],
    ['a kernel id twice in running', (kernelIds) => `{"agent_id":"a1","running":{"${kernelIds[0]}":true,"${kernelIds[0]}":false}}`],
  ]
  for (const [name, body] of cases) {
    await t.test(name, async (t) => {
      const w = await world(t)
      const agent = await w.agent('a1')
      agent.batchReply = (kernelIds) => ({ status: 200, body: body(kernelIds) })
      const kernels = kernelsOf('a1', 2)
      const check = await w.terminator.checkStaleKernels(KernelPages.of(kernels))
      t.same(check.deadKernelIds, [], 'nothing dies of an answer not understood')
      t.same(check.skipped, skips(SkipCause.AGENT_ERROR, kernels))
      t.same(check.reachability, { reached: ['a1'], unreachable: [] }, 'the body named a1: reached')
      t.equal(agent.gets.length, 0, 'no per-kernel retry')
    })
  }
})

t.test('other failures of a batch call: a 500 is agent_error and neither reached nor unreachable, a refused one agent_error and unreachable; neither is the signal', async (t) => {
  const w = await world(t, { batchSize: 2 })
  const failing = await w.agent('a1')
  failing.batchReply = () => ({ status: 500, body: 'oops', contentType: 'text/plain' })
  w.register('a2', `http://127.0.0.1:${await freePort()}`)
  const [failed, refused] = [kernelsOf('a1', 3), kernelsOf('a2', 3)]

  const check = await w.terminator.checkStaleKernels(KernelPages.of([...failed, ...refused]))

  t.same(check.deadKernelIds, [])
  t.same(check.skipped, skips(SkipCause.AGENT_ERROR, [...failed, ...refused]))
  t.same(check.reachability, { reached: [], unreachable: ['a2'] })
  t.same([failing.posts.length, failing.gets.length], [2, 0], 'two batch calls, no per-kernel fallback')
  await w.terminator.checkStaleKernels(KernelPages.of(failed))
  t.same([failing.posts.length, failing.gets.length], [4, 0], 'still asked in batches next time')
})

t.test('mixed agents in one check: batch agents asked once each, v1 agents per kernel, every verdict right', async (t) => {
  const w = await world(t, { concurrency: 4 })
  const scripted = [
    await w.agent('batch'),
    await w.agent('v404', { batchRoute: 404 }),
    await w.agent('v405', { batchRoute: 405 }),
    await w.agent('v501', { batchRoute: 501 }),
  ]
  const simulated = [await w.simulator('sim-batch'), await w.simulator('sim-v1', { batch: false })]
  const kernels: KernelInfo[] = []
  const dead: KernelInfo[] = []
  // Interleaved: kernel i of every agent, then kernel i + 1 of every agent.
  for (let i = 0; i < 4; i++) {
    for (const agent of scripted) {
      const kernel = runningKernel(agent.agentId)
      if (i % 2 === 0) agent.answers.set(kernel.id, true)
      else dead.push(kernel)
      kernels.push(kernel)
    }
    for (const simulator of simulated) {
      const [kernel] = onSimulator(simulator, [i % 2 === 0 ? 'running' : 'dead'])
      if (i % 2 === 1) dead.push(kernel!)
      kernels.push(kernel!)
    }
  }
  // One more, with a heartbeat: alive in stage 1, nobody asked about it.
  const reporting = runningKernel('batch')
  await w.presenceStore.updateKernelPresenceBatch('batch', new Map([[reporting.id, true]]))

  const check = await w.terminator.checkStaleKernels(KernelPages.of([...kernels, reporting]))

  t.same(check.deadKernelIds, idsOf(kernels.filter((kernel) => dead.includes(kernel))), 'exactly the dead, in input order')
  t.same(check.skipped, [])
  t.same([...check.reachability.reached].sort(), ['batch', 'sim-batch', 'sim-v1', 'v404', 'v405', 'v501'])
  t.same(check.reachability.unreachable, [])
  t.same(scripted.map((agent) => [agent.agentId, agent.posts.length, agent.gets.length]),
    [['batch', 1, 0], ['v404', 1, 4], ['v405', 1, 4], ['v501', 1, 4]], 'one batch call each; the v1 agents then 4 per kernel')
  t.notOk(scripted[0]!.batches.flat().includes(reporting.id), 'the reporting kernel was not asked about')
  t.same(simulated.map((simulator) => [simulator.batchCallsServed, simulator.checksServed, simulator.kernelsAsked]), [[1, 1, 4], [0, 4, 4]])
})
