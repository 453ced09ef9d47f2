import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import t, { type Test } from 'tap'
import type { AgentRecord } from '../../src/domain/agent.js'
import { testApp, type TestApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { freePort, skipWithoutRedis } from '../helpers/redis.js'
import { startScriptedAgent } from '../helpers/scripted-agent.js'
import { assertCountsMatch } from '../helpers/sweeps.js'

/*
 * Issue 12, contract §2 rules 12–14 end to end: real Postgres (a database of its own), real Redis (a
 * redis-server of the test's own), agents on real sockets — closed ports, a host that never answers,
 * newcomers at a dead agent's address, scripted agents answering 500, true or false.
 */

const GROUP = 'g'
const LOST_AFTER_SEC = 60

interface Transition { kernel_id: string, from_status: string, reason: string | null }
interface Sweep {
  sweep_id: string
  handler: string
  outcome: string
  dry_run: boolean
  forced: boolean
  result: { successes: Transition[], failures: Transition[] }
  terminated: string[]
  skipped: Array<{ kernel_id: string, cause: string, confirmations?: number }>
  counts: { kernels: number, successes: number, failures: number, terminated: number, skipped: number }
}
interface Kernel { kernel_id: string, agent_id: string | null, status: string, status_info: string | null, terminated_at: string | null, version: number }
interface HistoryRow { from_status: string, to_status: string, reason: string | null, sweep_id: string | null }

interface Fixture {
  readonly service: TestApp
  readonly app: FastifyInstance
  readonly db: pg.Client
  register (agentId: string, address: string, scalingGroup?: string): Promise<Record<string, unknown>>
  /** Kernels created in one bulk PUT, ids sorted (the order sweeps list them in); no heartbeat: suspects. */
  kernels (agentId: string | null, count: number, status?: string, scalingGroup?: string): Promise<string[]>
  sweep (body?: Record<string, unknown>): Promise<Sweep>
  decommission (agentId: string, body?: Record<string, unknown>): Promise<Sweep>
  agent (agentId: string): Promise<AgentRecord>
  /** Moves `unreachable_since` back by `seconds` from the database's now (or sets it, when null). */
  unreachableFor (agentId: string, seconds: number): Promise<void>
  kernel (kernelId: string): Promise<Kernel>
  history (kernelId: string): Promise<HistoryRow[]>
  /** The database's clock, for comparing with what it stamped. */
  dbNow (): Promise<Date>
}

async function setUp (t: Test, env: Record<string, string> = {}): Promise<Fixture> {
  const service = await testApp(t, 'own', { AGENT_RPC_TIMEOUT_MS: '2000', AGENT_LOST_AFTER_SEC: String(LOST_AFTER_SEC), ...env })
  const { app } = service
  const db = new pg.Client({ connectionString: service.databaseUrl })
  await db.connect()
  t.teardown(() => db.end())
  const readBack = async (t: Test, sweep: Sweep): Promise<Sweep> => {
    assertCountsMatch(t, sweep)
    t.same((await app.inject({ method: 'GET', url: `/v1/sweeps/${sweep.sweep_id}` })).json(), sweep, 'recorded as answered')
    return sweep
  }
  return {
    service,
    app,
    db,
    register: async (agentId, address, scalingGroup = GROUP) => {
      const response = await app.inject({ method: 'PUT', url: `/v1/agents/${agentId}`, payload: { address, scaling_group: scalingGroup } })
      if (response.statusCode !== 200) throw new Error(`registering ${agentId}: ${response.statusCode} ${response.body}`)
      return response.json()
    },
    kernels: async (agentId, count, status = 'RUNNING', scalingGroup = GROUP) => {
      const ids = Array.from({ length: count }, () => randomUUID()).sort()
      const payload = { kernels: ids.map((id) => ({ kernel_id: id, session_id: randomUUID(), scaling_group: scalingGroup, agent_id: agentId, status })) }
      const response = await app.inject({ method: 'PUT', url: '/v1/kernels', payload })
      if (response.statusCode !== 200) throw new Error(`putting kernels: ${response.statusCode} ${response.body}`)
      return ids
    },
    sweep: async (body = {}) => {
      const response = await app.inject({ method: 'POST', url: `/v1/scaling-groups/${GROUP}/sweeps`, payload: body })
      if (response.statusCode !== 201) throw new Error(`sweep ${JSON.stringify(body)}: ${response.statusCode} ${response.body}`)
      return readBack(t, response.json())
    },
    decommission: async (agentId, body = {}) => {
      const response = await app.inject({ method: 'POST', url: `/v1/agents/${agentId}/decommission`, payload: body })
      if (response.statusCode !== 201) throw new Error(`decommission ${JSON.stringify(body)}: ${response.statusCode} ${response.body}`)
      const sweep = response.json() as Sweep
      t.equal(response.headers['location'], `/v1/sweeps/${sweep.sweep_id}`, 'Location names the recorded sweep')
      return readBack(t, sweep)
    },
    agent: async (agentId) => {
      const agent = await app.persistence.agents.get(agentId)
      if (agent === null) throw new Error(`agent ${agentId} is not registered`)
      return agent
    },
    unreachableFor: async (agentId, seconds) => {
      const { rowCount } = await db.query(
        'UPDATE agents SET unreachable_since = now() - make_interval(secs => $2) WHERE id = $1', [agentId, seconds])
      if (rowCount !== 1) throw new Error(`no agent ${agentId}`)
    },
    kernel: async (kernelId) => (await app.inject({ method: 'GET', url: `/v1/kernels/${kernelId}` })).json(),
    history: async (kernelId) => (await app.inject({ method: 'GET', url: `/v1/kernels/${kernelId}/history` })).json().items,
    dbNow: async () => (await db.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now,
  }
}

/** An HTTP server on a real socket (on `port`, or any), handled by `handle`; counts its requests. */
async function startServer (
  t: Test,
  handle: (request: IncomingMessage, response: ServerResponse) => void,
  port = 0
): Promise<{ url: string, requests: string[] }> {
  const requests: string[] = []
  const server = createServer((request, response) => {
    requests.push(request.url ?? '')
    handle(request, response)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => { resolve() })
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

/** The kernel id a request of contract §5 asks about. */
const kernelOf = (request: IncomingMessage): string => /\/v1\/kernels\/([^/]+)\/running/.exec(request.url ?? '')?.[1] ?? ''

const ids = (list: Array<{ kernel_id: string }>): string[] => list.map((entry) => entry.kernel_id)
const skips = (cause: string, kernelIds: readonly string[]) => kernelIds.map((kernelId) => ({ kernel_id: kernelId, cause }))
const lostFailures = (kernelIds: readonly string[], fromStatus = 'RUNNING'): Transition[] =>
  kernelIds.map((kernelId) => ({ kernel_id: kernelId, from_status: fromStatus, reason: 'AGENT_LOST' }))

/** The kernel was terminated by `sweep` with `reason`, from `fromStatus`: status, info, time, version, one history row. */
async function assertTerminated (t: Test, f: Fixture, kernelId: string, sweepId: string, reason: string, fromStatus = 'RUNNING'): Promise<void> {
  const kernel = await f.kernel(kernelId)
  t.equal(kernel.status, 'TERMINATED', `${kernelId}: TERMINATED`)
  t.equal(kernel.status_info, reason, `${kernelId}: status_info ${reason}`)
  t.not(kernel.terminated_at, null, `${kernelId}: terminated_at set`)
  t.equal(kernel.version, 2, `${kernelId}: version raised by the termination`)
  t.same((await f.history(kernelId)).map((row) => ({ from_status: row.from_status, to_status: row.to_status, reason: row.reason, sweep_id: row.sweep_id })),
    [{ from_status: fromStatus, to_status: 'TERMINATED', reason, sweep_id: sweepId }], `${kernelId}: one history row`)
}

async function assertUntouched (t: Test, f: Fixture, kernelId: string, status = 'RUNNING'): Promise<void> {
  const kernel = await f.kernel(kernelId)
  t.match(kernel, { status, status_info: null, terminated_at: null, version: 1 }, `${kernelId}: left as it was`)
  t.same(await f.history(kernelId), [], `${kernelId}: no history`)
}

const skip = (await skipWithoutPostgres()) || (await skipWithoutRedis())

t.test('a closed port: UNREACHABLE, then LOST after AGENT_LOST_AFTER_SEC, and its suspects terminated as AGENT_LOST', { skip }, async (t) => {
  const f = await setUp(t)
  const live = await startScriptedAgent(t, 'b1')
  const deadAddress = `http://127.0.0.1:${await freePort()}`
  await f.register('a1', deadAddress)
  await f.register('b1', live.url)
  const dead = await f.kernels('a1', 2)
  const [running] = await f.kernels('b1', 1) as [string]
  live.answers.set(running, true)

  const before = await f.dbNow()
  const first = await f.sweep()
  t.equal(first.outcome, 'completed')
  t.same(first.skipped, skips('agent_error', dead), 'refused: agent_error')
  t.same(first.result.failures, [])
  t.same(first.terminated, [])
  const unreachable = await f.agent('a1')
  t.equal(unreachable.status, 'UNREACHABLE')
  t.ok(unreachable.unreachableSince !== null && unreachable.unreachableSince >= before, 'unreachable_since set by the sweep')
  t.equal(unreachable.lastReachedAt, null, 'never reached')
  const reached = await f.agent('b1')
  t.equal(reached.status, 'ALIVE')
  t.ok(reached.lastReachedAt !== null && reached.lastReachedAt >= before, 'the live agent: last_reached_at set')
  t.equal(reached.unreachableSince, null)
  t.equal(await f.service.raw.exists('schedule:detect_kernel_termination'), 0, 'nothing terminated, nothing marked')

  const second = await f.sweep()
  t.same(second.skipped, skips('agent_error', dead), 'still only skipped before AGENT_LOST_AFTER_SEC')
  t.same(second.terminated, [])
  t.same((await f.agent('a1')).unreachableSince, unreachable.unreachableSince, 'unreachable_since keeps the first moment')

  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)
  const lost = await f.agent('a1')
  t.equal(lost.status, 'LOST', `unreachable for more than ${LOST_AFTER_SEC} s`)
  t.equal((await f.app.inject({ method: 'GET', url: '/v1/agents/a1' })).json().status, 'LOST', 'the API says so too')

  const third = await f.sweep()
  t.equal(third.outcome, 'completed')
  t.same(third.result.failures, lostFailures(dead), 'both suspects dead, AGENT_LOST')
  t.same(third.result.successes, [{ kernel_id: running, from_status: 'RUNNING', reason: null }])
  t.same(third.terminated, dead)
  t.same(third.skipped, [], 'no longer skipped')
  for (const kernelId of dead) await assertTerminated(t, f, kernelId, third.sweep_id, 'AGENT_LOST')
  await assertUntouched(t, f, running)
  t.equal(await f.service.raw.get('schedule:detect_kernel_termination'), '1', 'the mark is set (rule 5)')
  t.same((await f.agent('a1')).unreachableSince, lost.unreachableSince, 'still unreachable since the same moment')
  t.equal((await f.agent('a1')).status, 'LOST')

  const fourth = await f.sweep()
  t.same(fourth.result.failures, [], 'terminated kernels are not swept again')
  t.same(ids(fourth.result.successes), [running])
})

t.test('a host that accepts but never answers: agent_timeout, UNREACHABLE, then AGENT_LOST', { skip }, async (t) => {
  const f = await setUp(t, { AGENT_RPC_TIMEOUT_MS: '300' })
  const hung = await startServer(t, () => { /* never answers */ })
  await f.register('a1', hung.url)
  const [kernelId] = await f.kernels('a1', 1) as [string]

  const first = await f.sweep()
  t.same(first.skipped, [{ kernel_id: kernelId, cause: 'agent_timeout' }])
  t.equal(hung.requests.length, 1, 'the host was asked')
  t.equal((await f.agent('a1')).status, 'UNREACHABLE')

  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)
  const second = await f.sweep()
  t.same(second.result.failures, lostFailures([kernelId]))
  t.same(second.terminated, [kernelId])
  await assertTerminated(t, f, kernelId, second.sweep_id, 'AGENT_LOST')
})

t.test('a rack going dark at once trips the guard; force terminates', { skip }, async (t) => {
  const f = await setUp(t, { GUARD_MIN_KERNELS: '2' })
  const live = await startScriptedAgent(t, 'b1')
  await f.register('a1', `http://127.0.0.1:${await freePort()}`)
  await f.register('b1', live.url)
  const dark = await f.kernels('a1', 3)
  const [running] = await f.kernels('b1', 1) as [string]
  live.answers.set(running, true)

  const first = await f.sweep()
  t.same(first.skipped, skips('agent_error', dark))
  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)

  const tripped = await f.sweep()
  t.equal(tripped.outcome, 'guard_tripped', '3 of 4 RUNNING kernels, at least GUARD_MIN_KERNELS = 2')
  t.same(tripped.result.failures, lostFailures(dark), 'reported as they would be terminated')
  t.same(tripped.terminated, [], 'nothing terminated')
  for (const kernelId of dark) await assertUntouched(t, f, kernelId)
  t.equal(await f.service.raw.exists('schedule:detect_kernel_termination'), 0, 'nothing marked')

  const forced = await f.sweep({ force: true })
  t.equal(forced.outcome, 'completed')
  t.equal(forced.forced, true)
  t.same(forced.terminated, dark)
  for (const kernelId of dark) await assertTerminated(t, f, kernelId, forced.sweep_id, 'AGENT_LOST')
  await assertUntouched(t, f, running)
})

t.test('a newcomer answering 404 at the dead agent\'s address (registered under its own id): agent_mismatch, UNREACHABLE, LOST', { skip }, async (t) => {
  const f = await setUp(t)
  // b1 took over the address a1 was registered at: it answers for b1, and 404 for anyone else.
  const newcomer = await startScriptedAgent(t, 'b1')
  await f.register('a1', newcomer.url)
  await f.register('b1', newcomer.url)
  const [orphan] = await f.kernels('a1', 1) as [string]
  const [own] = await f.kernels('b1', 1) as [string]
  newcomer.answers.set(own, true)

  const first = await f.sweep()
  t.same(first.skipped, [{ kernel_id: orphan, cause: 'agent_mismatch' }], 'a 404: agent_mismatch')
  t.same(newcomer.asked, [own], 'the scripted agent answered only about its own kernel (the other request got its 404)')
  t.equal((await f.agent('a1')).status, 'UNREACHABLE', 'a 404 counts as unreachable')
  t.equal((await f.agent('b1')).status, 'ALIVE')
  t.not((await f.agent('b1')).lastReachedAt, null)

  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)
  const second = await f.sweep()
  t.same(second.result.failures, lostFailures([orphan]))
  t.same(second.terminated, [orphan])
  await assertTerminated(t, f, orphan, second.sweep_id, 'AGENT_LOST')
  await assertUntouched(t, f, own)
})

t.test('a newcomer on the dead agent\'s port, answering 200 for another agent id: agent_mismatch, UNREACHABLE, LOST', { skip }, async (t) => {
  const f = await setUp(t)
  const port = await freePort()
  await f.register('a1', `http://127.0.0.1:${port}`)
  const [kernelId] = await f.kernels('a1', 1) as [string]

  const first = await f.sweep()
  t.same(first.skipped, [{ kernel_id: kernelId, cause: 'agent_error' }], 'nobody there yet: refused')
  t.equal((await f.agent('a1')).status, 'UNREACHABLE')

  // A new agent starts on the same port and answers — as itself — that the kernel runs.
  const newcomer = await startServer(t, (request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ agent_id: 'newcomer', kernel_id: kernelOf(request), running: true }))
  }, port)
  const second = await f.sweep()
  t.same(second.skipped, [{ kernel_id: kernelId, cause: 'agent_mismatch' }], 'an answer naming another agent: agent_mismatch')
  t.equal(newcomer.requests.length, 1, 'the newcomer was asked')
  t.equal((await f.agent('a1')).status, 'UNREACHABLE', 'still unreachable: another agent\'s answer is not a1\'s')
  t.equal((await f.agent('a1')).lastReachedAt, null)

  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)
  const third = await f.sweep()
  t.same(third.result.failures, lostFailures([kernelId]), 'its "running: true" does not save a kernel it does not host')
  t.same(third.terminated, [kernelId])
  await assertTerminated(t, f, kernelId, third.sweep_id, 'AGENT_LOST')
})

t.test('an agent answering 500 is never unreachable, never lost', { skip }, async (t) => {
  const f = await setUp(t)
  const failing = await startScriptedAgent(t, 'a1')
  await f.register('a1', failing.url)
  const kernels = await f.kernels('a1', 2)
  for (const kernelId of kernels) failing.answers.set(kernelId, 'error')

  const first = await f.sweep()
  t.same(first.skipped, skips('agent_error', kernels), 'a 500: agent_error')
  t.same(failing.asked, kernels, 'asked')
  const after = await f.agent('a1')
  t.equal(after.status, 'ALIVE', 'a 500 is not unreachable')
  t.equal(after.unreachableSince, null)
  t.equal(after.lastReachedAt, null, 'nor reached')

  // Even an agent LOST already: a 500 changes nothing, and loses nothing.
  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)
  const lostSince = (await f.agent('a1')).unreachableSince
  t.equal((await f.agent('a1')).status, 'LOST')
  const second = await f.sweep()
  t.equal(second.outcome, 'completed')
  t.same(second.skipped, skips('agent_error', kernels), 'still skipped agent_error')
  t.same(second.result.failures, [], 'not AGENT_LOST')
  t.same(second.terminated, [])
  for (const kernelId of kernels) await assertUntouched(t, f, kernelId)
  t.same((await f.agent('a1')).unreachableSince, lostSince, 'unreachable_since unchanged by a 500')
  t.equal((await f.agent('a1')).lastReachedAt, null)
})

t.test('a malformed 200 that names the agent reaches it: ALIVE again, nothing lost', { skip }, async (t) => {
  const f = await setUp(t)
  const garbled = await startServer(t, (request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ agent_id: 'a1', kernel_id: kernelOf(request), running: 'who knows' }))
  })
  await f.register('a1', garbled.url)
  const [kernelId] = await f.kernels('a1', 1) as [string]
  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)
  t.equal((await f.agent('a1')).status, 'LOST')

  const before = await f.dbNow()
  const sweep = await f.sweep()
  t.same(sweep.skipped, [{ kernel_id: kernelId, cause: 'agent_error' }], 'not understood: skipped')
  t.same(sweep.result.failures, [], 'not lost: the agent answered as itself')
  const agent = await f.agent('a1')
  t.equal(agent.status, 'ALIVE')
  t.equal(agent.unreachableSince, null)
  t.ok(agent.lastReachedAt !== null && agent.lastReachedAt >= before, 'last_reached_at set')
  await assertUntouched(t, f, kernelId)
})

t.test('registering again clears unreachable_since: ALIVE, and nothing lost', { skip }, async (t) => {
  const f = await setUp(t)
  const address = `http://127.0.0.1:${await freePort()}`
  await f.register('a1', address)
  const [kernelId] = await f.kernels('a1', 1) as [string]

  await f.sweep()
  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)
  const lostSince = (await f.agent('a1')).unreachableSince!
  t.equal((await f.agent('a1')).status, 'LOST')

  const registered = await f.register('a1', address)
  t.match(registered, { agent_id: 'a1', status: 'ALIVE', unreachable_since: null }, 'the PUT answers the agent ALIVE')
  const alive = await f.agent('a1')
  t.equal(alive.status, 'ALIVE')
  t.equal(alive.unreachableSince, null, 'cleared')

  const sweep = await f.sweep()
  t.same(sweep.skipped, [{ kernel_id: kernelId, cause: 'agent_error' }], 'refused again: skipped, not lost')
  t.same(sweep.result.failures, [])
  t.same(sweep.terminated, [])
  await assertUntouched(t, f, kernelId)
  const again = await f.agent('a1')
  t.equal(again.status, 'UNREACHABLE', 'unreachable again, from now: not LOST')
  t.ok(again.unreachableSince !== null && again.unreachableSince > lostSince, 'a new unreachable_since')
})

t.test('dry runs record no reachability', { skip }, async (t) => {
  const f = await setUp(t)
  const live = await startScriptedAgent(t, 'b1')
  await f.register('a1', `http://127.0.0.1:${await freePort()}`)
  await f.register('b1', live.url)
  const [closed] = await f.kernels('a1', 1) as [string]
  const [answered] = await f.kernels('b1', 1) as [string]
  live.answers.set(answered, true)

  const dry = await f.sweep({ dry_run: true })
  t.equal(dry.outcome, 'dry_run')
  t.same(dry.skipped, [{ kernel_id: closed, cause: 'agent_error' }])
  t.same(live.asked, [answered], 'the agents were asked')
  t.match(await f.agent('a1'), { status: 'ALIVE', unreachableSince: null, lastReachedAt: null }, 'a refused dry run: unreachable_since stays null')
  t.match(await f.agent('b1'), { status: 'ALIVE', unreachableSince: null, lastReachedAt: null }, 'an answered dry run: last_reached_at stays null')

  // A LOST agent: the dry run says what a real sweep would do, and changes nothing.
  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)
  await f.unreachableFor('b1', LOST_AFTER_SEC + 1)
  const lostSince = (await f.agent('a1')).unreachableSince
  const b1Since = (await f.agent('b1')).unreachableSince
  const dryLost = await f.sweep({ dry_run: true })
  t.same(dryLost.result.failures, lostFailures([closed]), 'reported as AGENT_LOST')
  t.same(dryLost.terminated, [])
  await assertUntouched(t, f, closed)
  t.same((await f.agent('a1')).unreachableSince, lostSince)
  t.match(await f.agent('b1'), { status: 'LOST', unreachableSince: b1Since, lastReachedAt: null }, 'the answer in a dry run does not make b1 ALIVE')
})

t.test('AGENT_LOST_AFTER_SEC=0: never lost', { skip }, async (t) => {
  const f = await setUp(t, { AGENT_LOST_AFTER_SEC: '0' })
  await f.register('a1', `http://127.0.0.1:${await freePort()}`)
  const [kernelId] = await f.kernels('a1', 1) as [string]

  await f.sweep()
  t.equal((await f.agent('a1')).status, 'UNREACHABLE', 'reachability is still recorded')
  await f.unreachableFor('a1', 30 * 86_400)
  t.equal((await f.agent('a1')).status, 'UNREACHABLE', 'a month unreachable: not LOST')

  const sweep = await f.sweep()
  t.same(sweep.skipped, [{ kernel_id: kernelId, cause: 'agent_error' }])
  t.same(sweep.result.failures, [])
  t.same(sweep.terminated, [])
  await assertUntouched(t, f, kernelId)
})

t.test('a reached agent: unreachable_since cleared, last_reached_at set', { skip }, async (t) => {
  const f = await setUp(t)
  const agent = await startScriptedAgent(t, 'a1')
  await f.register('a1', agent.url)
  const [alive, dead] = await f.kernels('a1', 2) as [string, string]
  agent.answers.set(alive, true)
  agent.answers.set(dead, false)
  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)
  t.equal((await f.agent('a1')).status, 'LOST')

  const before = await f.dbNow()
  const sweep = await f.sweep()
  t.same(sweep.result.failures, [{ kernel_id: dead, from_status: 'RUNNING', reason: 'STALE_KERNEL' }], 'its own answer: STALE_KERNEL')
  t.same(sweep.result.successes, [{ kernel_id: alive, from_status: 'RUNNING', reason: null }], 'the kernel it runs is left alone')
  t.same(sweep.skipped, [])
  t.same(sweep.terminated, [dead])
  const reached = await f.agent('a1')
  t.equal(reached.status, 'ALIVE')
  t.equal(reached.unreachableSince, null, 'cleared')
  t.ok(reached.lastReachedAt !== null && reached.lastReachedAt >= before, 'last_reached_at = the sweep\'s now')
  await assertTerminated(t, f, dead, sweep.sweep_id, 'STALE_KERNEL')
  await assertUntouched(t, f, alive)
})

t.test('SWEEP_CONFIRMATIONS=2: a lost agent\'s kernel awaits confirmation first, terminated in the next sweep', { skip }, async (t) => {
  const f = await setUp(t, { SWEEP_CONFIRMATIONS: '2' })
  await f.register('a1', `http://127.0.0.1:${await freePort()}`)
  const [kernelId] = await f.kernels('a1', 1) as [string]

  const first = await f.sweep()
  t.same(first.skipped, [{ kernel_id: kernelId, cause: 'agent_error' }])
  await f.unreachableFor('a1', LOST_AFTER_SEC + 1)

  const second = await f.sweep()
  t.equal(second.outcome, 'completed')
  t.same(second.skipped, [{ kernel_id: kernelId, cause: 'awaiting_confirmation', confirmations: 1 }])
  t.same(second.result.failures, [])
  t.same(second.result.successes, [{ kernel_id: kernelId, from_status: 'RUNNING', reason: null }])
  t.same(second.terminated, [])
  await assertUntouched(t, f, kernelId)

  const third = await f.sweep()
  t.same(third.result.failures, lostFailures([kernelId]), 'confirmed: AGENT_LOST')
  t.same(third.skipped, [])
  t.same(third.terminated, [kernelId])
  await assertTerminated(t, f, kernelId, third.sweep_id, 'AGENT_LOST')
})

t.test('SWEEP_CONFIRMATIONS=2: a sweep with a kernel awaiting confirmation still records reachability', { skip }, async (t) => {
  const f = await setUp(t, { SWEEP_CONFIRMATIONS: '2' })
  const agent = await startScriptedAgent(t, 'a1')
  await f.register('a1', agent.url)
  await f.register('c1', `http://127.0.0.1:${await freePort()}`)
  const [awaiting] = await f.kernels('a1', 1) as [string]
  const [closed] = await f.kernels('c1', 1) as [string]
  agent.answers.set(awaiting, false)

  const before = await f.dbNow()
  const sweep = await f.sweep()
  t.same(sweep.skipped.find((entry) => entry.kernel_id === awaiting), { kernel_id: awaiting, cause: 'awaiting_confirmation', confirmations: 1 })
  t.same(sweep.skipped.find((entry) => entry.kernel_id === closed), { kernel_id: closed, cause: 'agent_error' })
  const reached = await f.agent('a1')
  t.ok(reached.lastReachedAt !== null && reached.lastReachedAt >= before, 'a1 answered: last_reached_at set (rule 12)')
  const refused = await f.agent('c1')
  t.equal(refused.status, 'UNREACHABLE', 'c1 refused: UNREACHABLE (rule 12)')
  t.not(refused.unreachableSince, null, 'c1: unreachable_since set')
})

t.test('decommissioning an agent (rule 14)', { skip }, async (t) => {
  const f = await setUp(t, { GUARD_MIN_KERNELS: '2' })
  const agent = await startScriptedAgent(t, 'a1')
  const other = await startScriptedAgent(t, 'a2')
  await f.register('a1', agent.url)
  await f.register('a2', other.url)
  const running = await f.kernels('a1', 2, 'RUNNING')
  const [pending] = await f.kernels('a1', 1, 'PENDING') as [string]
  const [restarting] = await f.kernels('a1', 1, 'RESTARTING') as [string]
  const [finished] = await f.kernels('a1', 1, 'TERMINATED') as [string]
  const [cancelled] = await f.kernels('a1', 1, 'CANCELLED') as [string]
  const [othersRunning] = await f.kernels('a2', 1, 'RUNNING') as [string]
  // The group's non-final kernels: a1's 4 and a2's 1 + 4 = 9; its RUNNING ones: 3.
  const othersPending = await f.kernels('a2', 4, 'PENDING')
  const targets = [...running, pending, restarting].sort()
  const fromStatus = new Map<string, string>([...running.map((id) => [id, 'RUNNING'] as const), [pending, 'PENDING'], [restarting, 'RESTARTING']])
  const expectedFailures = targets.map((id) => ({ kernel_id: id, from_status: fromStatus.get(id)!, reason: 'AGENT_DECOMMISSIONED' }))

  t.equal((await f.app.inject({ method: 'POST', url: '/v1/agents/nobody/decommission', payload: {} })).statusCode, 404, 'an unknown agent: 404')

  const dry = await f.decommission('a1', { dry_run: true })
  t.match(dry, { handler: 'decommission-agent', outcome: 'dry_run', dry_run: true })
  t.same(dry.result.failures, expectedFailures, 'every non-final kernel of a1, each from its own status')
  t.same(dry.result.successes, [])
  t.same(dry.terminated, [])
  for (const id of targets) await assertUntouched(t, f, id, fromStatus.get(id))
  t.match(await f.agent('a1'), { status: 'ALIVE', decommissionedAt: null }, 'a dry run decommissions nothing')

  // 4 of the group's 9 non-final kernels: not more than half, so the guard allows it (against the
  // group's RUNNING kernels, 3, or a1's own, 4, it would trip).
  const before = await f.dbNow()
  const real = await f.decommission('a1')
  t.match(real, { handler: 'decommission-agent', outcome: 'completed', dry_run: false, forced: false })
  t.same(real.result.failures, expectedFailures)
  t.same(real.result.successes, [])
  t.same(real.skipped, [])
  t.same(real.terminated, targets)
  t.same(agent.asked, [], 'the agent was never asked')
  for (const id of targets) await assertTerminated(t, f, id, real.sweep_id, 'AGENT_DECOMMISSIONED', fromStatus.get(id))
  t.match(await f.kernel(finished), { status: 'TERMINATED', version: 1, status_info: null }, 'a TERMINATED kernel left alone')
  t.match(await f.kernel(cancelled), { status: 'CANCELLED', version: 1, status_info: null }, 'a CANCELLED kernel left alone')
  t.same(await f.history(finished), [])
  await assertUntouched(t, f, othersRunning)
  for (const id of othersPending) await assertUntouched(t, f, id, 'PENDING')
  const decommissioned = await f.agent('a1')
  t.equal(decommissioned.status, 'DECOMMISSIONED')
  t.ok(decommissioned.decommissionedAt !== null && decommissioned.decommissionedAt >= before, 'decommissioned_at set')
  t.equal(await f.service.raw.get('schedule:detect_kernel_termination'), '1', 'the mark is set')
  const { rows: recorded } = await f.db.query<{ handler: string }>('SELECT handler FROM sweeps WHERE id = $1', [real.sweep_id])
  t.same(recorded, [{ handler: 'decommission-agent' }], 'recorded with its handler')

  // A stale sweep never asks a decommissioned agent.
  const [late] = await f.kernels('a1', 1) as [string]
  other.answers.set(othersRunning, true)
  const stale = await f.sweep()
  t.same(stale.skipped, [{ kernel_id: late, cause: 'agent_decommissioned' }])
  t.same(stale.result.failures, [])
  t.same(agent.asked, [], 'still never asked')
  t.same(other.asked, [othersRunning], 'the other agent is')
  t.equal((await f.agent('a1')).status, 'DECOMMISSIONED', 'a sweep that does not ask it learns nothing of it')
  await assertUntouched(t, f, late)

  // Registering again: ALIVE, and asked again.
  await f.register('a1', agent.url)
  t.match(await f.agent('a1'), { status: 'ALIVE', decommissionedAt: null })
  agent.answers.set(late, true)
  const again = await f.sweep()
  t.same(again.skipped, [])
  t.same(agent.asked, [late], 'asked again')
  t.equal((await f.agent('a1')).status, 'ALIVE')
  t.not((await f.agent('a1')).lastReachedAt, null)
})

t.test('decommissioning trips the guard against the group\'s non-final kernels; force goes through', { skip }, async (t) => {
  const f = await setUp(t, { GUARD_MIN_KERNELS: '2' })
  await f.register('a1', `http://127.0.0.1:${await freePort()}`)
  await f.register('a2', `http://127.0.0.1:${await freePort()}`)
  const targets = [...await f.kernels('a1', 2, 'RUNNING'), ...await f.kernels('a1', 1, 'PREPARING')].sort()
  const [others] = await f.kernels('a2', 1, 'PENDING') as [string]
  await f.kernels('a2', 5, 'TERMINATED') // final: not part of the guard's whole

  const tripped = await f.decommission('a1')
  t.equal(tripped.outcome, 'guard_tripped', '3 of the group\'s 4 non-final kernels')
  t.same(tripped.terminated, [])
  t.equal(tripped.result.failures.length, 3)
  for (const id of targets) t.equal((await f.kernel(id)).version, 1, `${id} untouched`)
  t.match(await f.agent('a1'), { status: 'ALIVE', decommissionedAt: null }, 'not decommissioned when the guard trips')

  const forced = await f.decommission('a1', { force: true })
  t.match(forced, { outcome: 'completed', forced: true })
  t.same(forced.terminated, targets)
  for (const id of targets) t.equal((await f.kernel(id)).status_info, 'AGENT_DECOMMISSIONED')
  await assertUntouched(t, f, others, 'PENDING')
  t.equal((await f.agent('a1')).status, 'DECOMMISSIONED')
})
