import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import t, { type Test } from 'tap'
import { AgentSimulator, type AgentSimulatorOptions, type KernelBehaviour } from '../../src/agents/simulator/agent-simulator.js'
import type { AgentWire, SweepWire } from '../../src/http/schemas.js'
import { testApp, type TestApp } from '../helpers/app.js'
import { ContractAgent, InFlight } from '../helpers/contract-agent.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { freePort, skipWithoutRedis } from '../helpers/redis.js'
import { assertCountsMatch } from '../helpers/sweeps.js'

/*
 * Issue 13, item 1, end to end: the whole service (real Postgres in a database of its own, a
 * redis-server of the test's own) asking agents on real sockets over the batched RPC of contract
 * §5 and its per-kernel fallback. No agent sends heartbeats, so every RUNNING kernel is a suspect.
 */

const GROUP = 'g'
const LOST_AFTER_SEC = 60

type Sweep = SweepWire
type Agent = AgentWire
type Transition = SweepWire['result']['failures'][number]

interface Fixture {
  readonly service: TestApp
  readonly app: FastifyInstance
  register (agentId: string, address: string): Promise<void>
  /** Kernels created RUNNING in one bulk PUT; ids sorted, the order sweeps list them in. */
  kernels (agentId: string, count: number): Promise<string[]>
  sweep (): Promise<Sweep>
  agent (agentId: string): Promise<Agent>
  /** Moves `unreachable_since` back by `seconds` from the database's now. */
  unreachableFor (agentId: string, seconds: number): Promise<void>
  /** A simulated agent, closed at teardown (registered with `register`). */
  simulator (agentId: string, options?: Omit<AgentSimulatorOptions, 'agentId'>): Promise<AgentSimulator>
}

async function setUp (t: Test, env: Record<string, string> = {}): Promise<Fixture> {
  const service = await testApp(t, 'own', { AGENT_RPC_TIMEOUT_MS: '2000', AGENT_LOST_AFTER_SEC: String(LOST_AFTER_SEC), ...env })
  const { app } = service
  const db = new pg.Client({ connectionString: service.databaseUrl })
  await db.connect()
  t.teardown(() => db.end())
  return {
    service,
    app,
    register: async (agentId, address) => {
      const response = await app.inject({ method: 'PUT', url: `/v1/agents/${agentId}`, payload: { address, scaling_group: GROUP } })
      if (response.statusCode !== 200) throw new Error(`registering ${agentId}: ${response.statusCode} ${response.body}`)
    },
    kernels: async (agentId, count) => {
      const ids = Array.from({ length: count }, () => randomUUID()).sort()
      const payload = { kernels: ids.map((id) => ({ kernel_id: id, session_id: randomUUID(), scaling_group: GROUP, agent_id: agentId, status: 'RUNNING' })) }
      const response = await app.inject({ method: 'PUT', url: '/v1/kernels', payload })
      if (response.statusCode !== 200) throw new Error(`putting kernels: ${response.statusCode} ${response.body}`)
      return ids
    },
    sweep: async () => {
      const response = await app.inject({ method: 'POST', url: `/v1/scaling-groups/${GROUP}/sweeps`, payload: {} })
      if (response.statusCode !== 201) throw new Error(`sweep: ${response.statusCode} ${response.body}`)
      const sweep = response.json() as Sweep
      assertCountsMatch(t, sweep)
      t.same((await app.inject({ method: 'GET', url: `/v1/sweeps/${sweep.sweep_id}` })).json(), sweep, 'recorded as answered')
      return sweep
    },
    agent: async (agentId) => (await app.inject({ method: 'GET', url: `/v1/agents/${agentId}` })).json(),
    unreachableFor: async (agentId, seconds) => {
      const { rowCount } = await db.query('UPDATE agents SET unreachable_since = now() - make_interval(secs => $2) WHERE id = $1', [agentId, seconds])
      if (rowCount !== 1) throw new Error(`no agent ${agentId}`)
    },
    simulator: async (agentId, options = {}) => {
      const simulator = await AgentSimulator.start({ agentId, ...options })
      t.teardown(() => simulator.close())
      return simulator
    },
  }
}

const sorted = (ids: readonly string[]): string[] => [...ids].sort()
const skips = (cause: string, kernelIds: readonly string[]) => kernelIds.map((kernelId) => ({ kernel_id: kernelId, cause }))
/** Skipped entries as a sweep lists them: in the order of the kernel ids. */
const inIdOrder = <T extends { kernel_id: string }>(entries: readonly T[]): T[] => [...entries].sort((a, b) => a.kernel_id.localeCompare(b.kernel_id))
const failuresOf = (reason: string, kernelIds: readonly string[]): Transition[] =>
  sorted(kernelIds).map((kernelId) => ({ kernel_id: kernelId, from_status: 'RUNNING', reason }))
/** The simulator's counters: [batch calls, per-kernel calls, kernels asked]. */
const served = (simulator: AgentSimulator): [number, number, number] =>
  [simulator.batchCallsServed, simulator.checksServed - simulator.batchCallsServed, simulator.kernelsAsked]

/** Gives each kernel its behaviour on the simulator: every third one dead, the others running. Returns the dead. */
function everyThirdDead (simulator: AgentSimulator, kernelIds: readonly string[]): string[] {
  const dead: string[] = []
  kernelIds.forEach((kernelId, index) => {
    const behaviour: KernelBehaviour = index % 3 === 0 ? 'dead' : 'running'
    simulator.setKernel(kernelId, behaviour)
    if (behaviour === 'dead') dead.push(kernelId)
  })
  return dead
}

const skip = (await skipWithoutPostgres()) || (await skipWithoutRedis())

t.test('a storm (no kernel has presence) terminates exactly the dead: one batch call per batch agent, a v1 agent asked per kernel', { skip }, async (t) => {
  const f = await setUp(t)
  const batchAgents = await Promise.all(['a1', 'a2', 'a3', 'a4'].map((agentId) => f.simulator(agentId)))
  const v1 = await f.simulator('v1', { batch: false })
  const dead: string[] = []
  const perAgent = new Map<AgentSimulator, number>()
  for (const [simulator, count] of [...batchAgents.map((agent) => [agent, 250] as const), [v1, 20] as const]) {
    await f.register(simulator.agentId, simulator.url)
    dead.push(...everyThirdDead(simulator, await f.kernels(simulator.agentId, count)))
    perAgent.set(simulator, count)
  }

  const sweep = await f.sweep()

  t.equal(sweep.outcome, 'completed')
  t.same(sweep.terminated, sorted(dead), `exactly the ${dead.length} dead kernels terminated`)
  t.same(sweep.result.failures, failuresOf('STALE_KERNEL', dead))
  t.equal(sweep.result.successes.length, 1020 - dead.length, 'every other kernel a success')
  t.same(sweep.skipped, [], 'nothing skipped')
  for (const simulator of batchAgents) {
    t.same(served(simulator), [1, 0, 250], `${simulator.agentId}: one batch call for its 250 kernels, no per-kernel call`)
  }
  t.same(served(v1), [0, 20, 20], 'the v1 agent: one call per kernel (its refused batch call is not served)')
  for (const simulator of [...batchAgents, v1]) {
    const agent = await f.agent(simulator.agentId)
    t.equal(agent.status, 'ALIVE', `${simulator.agentId}: ALIVE`)
    t.not(agent.last_reached_at, null, `${simulator.agentId}: reached (rule 12)`)
  }
  for (const kernelId of dead.slice(0, 3)) {
    t.match((await f.app.inject({ method: 'GET', url: `/v1/kernels/${kernelId}` })).json(), { status: 'TERMINATED', status_info: 'STALE_KERNEL' })
  }
})

t.test('AGENT_RPC_BATCH_SIZE and AGENT_RPC_CONCURRENCY reach stage 2', { skip }, async (t) => {
  const f = await setUp(t, { AGENT_RPC_BATCH_SIZE: '100', AGENT_RPC_CONCURRENCY: '2' })
  const inFlight = new InFlight()
  const big = await ContractAgent.start(t, 'big', { delayMs: 50, inFlight })
  const small = await Promise.all(['s1', 's2', 's3'].map((agentId) => ContractAgent.start(t, agentId, { delayMs: 50, inFlight })))
  await f.register('big', big.url)
  const bigKernels = await f.kernels('big', 250)
  for (const kernelId of bigKernels) big.answers.set(kernelId, true)
  for (const agent of small) {
    await f.register(agent.agentId, agent.url)
    for (const kernelId of await f.kernels(agent.agentId, 2)) agent.answers.set(kernelId, true)
  }

  const sweep = await f.sweep()

  t.same(sweep.terminated, [])
  t.same(sweep.skipped, [])
  t.equal(big.posts.length, 3, '250 kernels in batches of 100: 3 calls')
  t.ok(big.batches.every((batch) => batch.length <= 100), `sizes ${big.batches.map((batch) => batch.length).join(', ')}`)
  t.same(sorted(big.batches.flat()), bigKernels)
  t.same(small.map((agent) => agent.posts.length), [1, 1, 1])
  t.equal(inFlight.peak, 2, '6 calls, 2 in flight at most')
})

t.test('a v1 agent is asked per kernel, and the next sweep does not offer it the batch route again', { skip }, async (t) => {
  const f = await setUp(t)
  const v1 = await ContractAgent.start(t, 'v1', { batchRoute: 405 })
  await f.register('v1', v1.url)
  const [alive, dead] = await f.kernels('v1', 2) as [string, string]
  v1.answers.set(alive, true)

  const first = await f.sweep()
  t.same(first.terminated, [dead], 'its dead kernel terminated in the same sweep')
  t.same(first.skipped, [], 'no skip for the 405')
  t.same([v1.posts.length, v1.gets.length], [1, 2], 'the batch route tried once, then per kernel')
  t.equal((await f.agent('v1')).status, 'ALIVE')

  const second = await f.sweep()
  t.same(second.terminated, [])
  t.same(second.skipped, [])
  t.same([v1.posts.length, v1.gets.length], [1, 3], 'no POST at all: straight to the per-kernel route')
})

t.test('PUT /v1/agents/{id} re-registering an upgraded agent at a new address: the next sweep uses the batch route at once', { skip }, async (t) => {
  const f = await setUp(t, { AGENT_BATCH_RETRY_SEC: '3600' })
  const old = await ContractAgent.start(t, 'a1', { batchRoute: 404 })
  await f.register('a1', old.url)
  const kernels = await f.kernels('a1', 3)
  for (const kernelId of kernels) old.answers.set(kernelId, true)

  await f.sweep()
  t.same([old.posts.length, old.gets.length], [1, 3], 'a v1 agent: asked per kernel')
  await f.sweep()
  t.same([old.posts.length, old.gets.length], [1, 6], 'remembered: per kernel again')

  const upgraded = await f.simulator('a1')
  for (const kernelId of kernels) upgraded.setKernel(kernelId, 'running')
  upgraded.kill(kernels[1]!)
  await f.register('a1', upgraded.url)
  const sweep = await f.sweep()

  t.same(served(upgraded), [1, 0, 3], 'the upgraded agent: one batch call, nothing per kernel')
  t.equal(old.requests.length, 7, 'the old address is not asked any more')
  t.same(sweep.terminated, [kernels[1]])
  t.same(sweep.skipped, [])
})

t.test('PUT /v1/agents/{id} re-registering an agent upgraded in place (same address) forgets that it had no batch route', { skip }, async (t) => {
  const f = await setUp(t, { AGENT_BATCH_RETRY_SEC: '3600' })
  const old = await ContractAgent.start(t, 'a1', { batchRoute: 501 })
  await f.register('a1', old.url)
  const kernels = await f.kernels('a1', 2)
  for (const kernelId of kernels) old.answers.set(kernelId, true)
  await f.sweep()
  t.same([old.posts.length, old.gets.length], [1, 2])

  await old.close()
  const upgraded = await f.simulator('a1', { port: Number(new URL(old.url).port) })
  t.equal(upgraded.url, old.url, 'the same address')
  for (const kernelId of kernels) upgraded.setKernel(kernelId, 'running')

  const before = await f.sweep()
  t.same(before.skipped, [])
  t.same(served(upgraded), [0, 2, 2], 'not registered again: still asked per kernel (AGENT_BATCH_RETRY_SEC is an hour)')

  await f.register('a1', old.url)
  const after = await f.sweep()
  t.same(after.skipped, [])
  t.same(served(upgraded), [1, 2, 4], 'registered again: the batch route at once')
})

t.test('rule 13 on the batch path: agents whose batch calls fail as unreachable for longer than AGENT_LOST_AFTER_SEC lose their suspects as AGENT_LOST', { skip }, async (t) => {
  const f = await setUp(t, { AGENT_RPC_TIMEOUT_MS: '300', AGENT_RPC_BATCH_SIZE: '2', GUARD_MIN_KERNELS: '100' })
  await f.register('refused', `http://127.0.0.1:${await freePort()}`)
  const impostor = await f.simulator('impostor')
  const hung = await f.simulator('hung')
  const newcomer = await f.simulator('newcomer') // listens where 'orphaned' was registered
  // The control: its batch route answers 405 and every per-kernel call 500, neither of which is unreachable.
  const failing = await ContractAgent.start(t, 'failing', { batchRoute: 405 })
  failing.kernelStatus = 500
  const healthy = await f.simulator('healthy')
  await f.register('impostor', impostor.url)
  await f.register('hung', hung.url)
  await f.register('orphaned', newcomer.url)
  await f.register('failing', failing.url)
  await f.register('healthy', healthy.url)
  const refusedKernels = await f.kernels('refused', 3)
  const impostorKernels = await f.kernels('impostor', 3)
  const hungKernels = await f.kernels('hung', 3)
  const orphanedKernels = await f.kernels('orphaned', 2)
  const failingKernels = await f.kernels('failing', 2)
  const [running, dead] = await f.kernels('healthy', 2) as [string, string]
  for (const kernelId of impostorKernels) impostor.setKernel(kernelId, 'impostor')
  for (const kernelId of hungKernels) hung.hang(kernelId)
  healthy.setKernel(running, 'running')
  healthy.kill(dead)

  const first = await f.sweep()
  t.same(first.terminated, [dead])
  t.same(first.skipped, inIdOrder([
    ...skips('agent_error', refusedKernels), ...skips('agent_mismatch', impostorKernels), ...skips('agent_timeout', hungKernels),
    ...skips('agent_mismatch', orphanedKernels), ...skips('agent_error', failingKernels),
  ]), 'refused: agent_error; impostor and newcomer: agent_mismatch; hung: agent_timeout; 405 + 500: agent_error')
  for (const agentId of ['refused', 'impostor', 'hung', 'orphaned']) t.equal((await f.agent(agentId)).status, 'UNREACHABLE', `${agentId}: UNREACHABLE`)
  t.match(await f.agent('failing'), { status: 'ALIVE', unreachable_since: null }, 'a 405 and 500s change nothing (rule 12)')
  t.same([impostor.batchCallsServed, hung.batchCallsServed, newcomer.kernelsAsked], [2, 2, 0], 'batch calls, 2 of at most 2 kernels each')

  for (const agentId of ['refused', 'impostor', 'hung', 'orphaned', 'failing']) await f.unreachableFor(agentId, LOST_AFTER_SEC + 1)
  for (const agentId of ['refused', 'impostor', 'hung', 'orphaned', 'failing']) t.equal((await f.agent(agentId)).status, 'LOST', `${agentId}: LOST`)

  const second = await f.sweep()
  const lost = [...refusedKernels, ...impostorKernels, ...hungKernels, ...orphanedKernels]
  t.equal(second.outcome, 'completed')
  t.same(second.result.failures, failuresOf('AGENT_LOST', lost), 'every suspect of the four unreachable agents: AGENT_LOST')
  t.same(second.terminated, sorted(lost))
  t.same(second.skipped, skips('agent_error', failingKernels),
    'the agent that answered 405 and then 500s stays skipped, LOST or not: none of its calls was unreachable')
  for (const kernelId of lost.slice(0, 4)) {
    t.match((await f.app.inject({ method: 'GET', url: `/v1/kernels/${kernelId}` })).json(), { status: 'TERMINATED', status_info: 'AGENT_LOST' })
  }
})

t.test('the sweep answer names the causes: a hung batch agent\'s kernels agent_timeout, an impostor\'s agent_mismatch, within the timeout', { skip }, async (t) => {
  const f = await setUp(t, { AGENT_RPC_TIMEOUT_MS: '500' })
  const hung = await f.simulator('hung')
  const impostor = await f.simulator('impostor')
  const healthy = await f.simulator('healthy')
  for (const simulator of [hung, impostor, healthy]) await f.register(simulator.agentId, simulator.url)
  const hungKernels = await f.kernels('hung', 3)
  const impostorKernels = await f.kernels('impostor', 3)
  const healthyKernels = await f.kernels('healthy', 3)
  // One bad kernel spoils its whole call: the others in it, dead ones too, are skipped with it.
  hung.hang(hungKernels[0]!)
  hung.kill(hungKernels[1]!)
  hung.setKernel(hungKernels[2]!, 'running')
  impostor.setKernel(impostorKernels[0]!, 'impostor')
  impostor.kill(impostorKernels[1]!)
  impostor.setKernel(impostorKernels[2]!, 'running')
  const healthyDead = everyThirdDead(healthy, healthyKernels)

  const started = Date.now()
  const sweep = await f.sweep()
  const elapsed = Date.now() - started

  t.ok(elapsed < 500 + 1_500, `answered in ${elapsed} ms with a 500 ms agent timeout`)
  t.equal(sweep.outcome, 'completed')
  t.same(sweep.terminated, sorted(healthyDead), 'only the healthy agent\'s dead kernel')
  t.same(sweep.skipped, inIdOrder([...skips('agent_timeout', hungKernels), ...skips('agent_mismatch', impostorKernels)]),
    'every kernel of the hung call agent_timeout, every kernel of the lying call agent_mismatch')
  t.same([served(hung), served(impostor), served(healthy)], [[1, 0, 3], [1, 0, 3], [1, 0, 3]], 'one batch call each')
  t.equal((await f.agent('hung')).status, 'UNREACHABLE')
  t.equal((await f.agent('impostor')).status, 'UNREACHABLE')
  t.equal((await f.agent('healthy')).status, 'ALIVE')
})
