import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t, { type Test } from 'tap'
import { AgentSimulator, type KernelBehaviour } from '../../src/agents/simulator/agent-simulator.js'
import { testApp } from '../helpers/app.js'
import { assertNoFalseTermination } from '../helpers/invariants.js'
import { skipWithoutPostgres, TEST_DATABASE_URL, testDatabase } from '../helpers/postgres.js'
import { freePort, OwnRedisServer, skipWithoutRedis, testRedisDb } from '../helpers/redis.js'
import { startServerProcess } from '../helpers/server-process.js'

const REDIS_DB = 9

/** One row of RELIABILITY.md, printed by the test that proves it. */
function row (t: Test, fault: string, did: string, checked: string): void {
  t.comment(`| ${fault} | ${did} | ${checked} | ${t.passing() ? 'pass' : 'FAIL'} |`)
}

interface Cluster {
  readonly dead: string[]
  readonly alive: string[]
  readonly kernel: Record<string, string>
  readonly agents: Map<string, AgentSimulator>
}

/**
 * Three agents, six kernels: two alive and reporting, two dead (silent, and their agent says so),
 * one silent but running, one whose agent hangs. A good sweep terminates exactly the two dead.
 * The hung kernel has an agent of its own: agents are asked in batches (contract §5), and a
 * hung call leaves every kernel it asked about unverified.
 */
/** An API call, as the tests make it; bodies are whatever JSON came back. */
type Call = (method: string, url: string, body?: unknown) => Promise<{ status: number, body: any }>

async function cluster (t: Test, call: Call, report: (agentId: string, kernels: ReadonlyMap<string, boolean>) => Promise<void>): Promise<Cluster> {
  const plan: Array<[name: string, agent: string, behaviour: KernelBehaviour]> = [
    ['alive1', 'a1', 'running'], ['dead1', 'a1', 'dead'], ['silentAlive', 'a1', 'running'],
    ['alive2', 'a2', 'running'], ['dead2', 'a2', 'dead'], ['hung', 'a3', 'hang'],
  ]
  const kernel: Record<string, string> = Object.fromEntries(plan.map(([name]) => [name, randomUUID()]))
  const agents = new Map<string, AgentSimulator>()
  for (const agentId of ['a1', 'a2', 'a3']) {
    const simulator = await AgentSimulator.start({ agentId, reportPresence: async (id, kernels) => { await report(id, kernels) } })
    t.teardown(() => simulator.close())
    agents.set(agentId, simulator)
    await call('PUT', `/v1/agents/${agentId}`, { address: simulator.url, scaling_group: 'default' })
  }
  await call('PUT', '/v1/kernels', {
    kernels: plan.map(([name, agent]) => ({ kernel_id: kernel[name], session_id: randomUUID(), scaling_group: 'default', agent_id: agent, status: 'RUNNING' })),
  })
  for (const [name, agent, behaviour] of plan) agents.get(agent)!.setKernel(kernel[name]!, behaviour)
  // Only kernels that really report are present; silentAlive lost its heartbeat but runs.
  await report('a1', new Map([[kernel['alive1']!, true]]))
  await report('a2', new Map([[kernel['alive2']!, true]]))
  return {
    kernel,
    agents,
    dead: [kernel['dead1']!, kernel['dead2']!],
    alive: [kernel['alive1']!, kernel['alive2']!, kernel['silentAlive']!, kernel['hung']!],
  }
}

/** Sweeps until one answers 201 (a store coming back takes a moment), for at most five seconds. */
async function sweepUntilAnswered (sweep: () => ReturnType<Call>): ReturnType<Call> {
  let answer = await sweep()
  for (let i = 0; i < 50 && answer.status !== 201; i++) {
    await sleep(100)
    answer = await sweep()
  }
  return answer
}

async function inProcessWorld (t: Test, env: Record<string, string> = {}) {
  const test = await testApp(t, REDIS_DB, { AGENT_RPC_TIMEOUT_MS: '800', ...env })
  const call: Call = async (method, url, payload) => {
    const response = await test.app.inject({ method: method as 'GET', url, ...(payload === undefined ? {} : { payload: payload as object }) })
    return { status: response.statusCode, body: response.body === '' ? null : response.json() }
  }
  const kernels = await cluster(t, call, (agentId, presence) => test.app.sweeper.presence.updateKernelPresenceBatch(agentId, presence))
  const sweep = () => call('POST', '/v1/scaling-groups/default/sweeps', {})
  return { ...test, ...kernels, call, sweep }
}

t.test('fault matrix', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  t.comment('| fault | what the service did | what was checked | result |')
  t.comment('|---|---|---|---|')

  await t.test('baseline: nothing fails', async (t) => {
    const w = await inProcessWorld(t)
    const answer = await w.sweep()
    t.equal(answer.status, 201)
    t.same([...answer.body.terminated].sort(), [...w.dead].sort())
    t.same(answer.body.skipped, [{ kernel_id: w.kernel['hung'], cause: 'agent_timeout' }])
    await assertNoFalseTermination(t, w.app, w.alive)
    row(t, 'none (baseline)', '201; the two dead kernels terminated, the hung agent\'s kernel skipped', 'invariants')
  })

  await t.test('Valkey down before a sweep', async (t) => {
    const redis = await OwnRedisServer.start(t)
    const w = await inProcessWorld(t, { VALKEY_URL: redis.url })
    await redis.stop()
    const started = Date.now()
    const down = await w.sweep()
    t.equal(down.status, 503)
    t.match(down.body, { type: 'presence-unavailable' })
    t.ok(Date.now() - started < 2_000, `answered in ${Date.now() - started} ms`)
    await assertNoFalseTermination(t, w.app, [...w.alive, ...w.dead])
    await redis.start()
    const recovered = await sweepUntilAnswered(w.sweep)
    t.equal(recovered.status, 201, 'sweeps again once Valkey is back, with no restart')
    await assertNoFalseTermination(t, w.app, w.alive)
    row(t, 'Valkey down before a sweep', '503 presence-unavailable at once; sweep recorded failed', 'nothing terminated; recovers by itself when Valkey returns')
  })

  await t.test('Valkey killed in the middle of stage 1', async (t) => {
    const redis = await OwnRedisServer.start(t)
    const w = await inProcessWorld(t, { VALKEY_URL: redis.url })
    redis.freeze() // stage 1 is sent and waits for an answer…
    const pending = w.sweep()
    await sleep(200)
    await redis.stop() // …and the server dies under it
    const answer = await pending
    t.equal(answer.status, 503)
    t.match(answer.body, { type: 'presence-unavailable' })
    await assertNoFalseTermination(t, w.app, [...w.alive, ...w.dead])
    await redis.start()
    const recovered = await sweepUntilAnswered(w.sweep)
    t.equal(recovered.status, 201)
    t.same([...recovered.body.terminated].sort(), [...w.dead].sort(), 'the next sweep does the work')
    await assertNoFalseTermination(t, w.app, w.alive)
    row(t, 'Valkey killed in the middle of stage 1', '503 presence-unavailable', 'nothing terminated; next sweep after restart terminates the dead')
  })

  await t.test('Postgres connections killed between stage 2 and the transition', async (t) => {
    const name = `ks-fault-${randomBytes(4).toString('hex')}`
    const schema = await testDatabase(t)
    const w = await inProcessWorld(t, {
      AGENT_RPC_TIMEOUT_MS: '1500',
      DATABASE_URL: `${schema.url}?application_name=${name}&options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`,
    })
    const a3 = w.agents.get('a3')!
    const pending = w.sweep()
    while (a3.checksServed === 0) await sleep(10) // stage 2 is under way (the hung agent holds it)
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await admin.connect()
    const { rows } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name])
    await admin.end()
    t.ok(rows.length >= 2, `killed ${rows.length} connections, the lock holder among them`)
    const answer = await pending
    t.equal(answer.status, 503)
    t.match(answer.body, { type: 'lock-expired' }, 'the lost lock stops the write')
    await assertNoFalseTermination(t, w.app, [...w.alive, ...w.dead])
    const recovered = await w.sweep()
    t.equal(recovered.status, 201, 'the pools reconnect by themselves')
    t.same([...recovered.body.terminated].sort(), [...w.dead].sort())
    await assertNoFalseTermination(t, w.app, w.alive)
    row(t, 'Postgres connections (lock holder included) killed between stage 2 and the transition', '503 lock-expired; no transition written', 'nothing terminated; the next sweep works')
  })

  const agentFaults: Array<[string, KernelBehaviour | 'refused', string]> = [
    ['agent hanging', 'hang', 'agent_timeout'],
    ['agent refusing connections', 'refused', 'agent_error'],
    ['agent closing half-way', 'half-close', 'agent_error'],
    ['agent answering garbage', 'garbage', 'agent_error'],
    ['agent answering HTTP 500', 'error', 'agent_error'],
    ['agent answering for another agent id', 'impostor', 'agent_mismatch'],
  ]
  for (const [fault, behaviour, cause] of agentFaults) {
    await t.test(fault, async (t) => {
      const w = await inProcessWorld(t)
      const victim = randomUUID()
      // The faulty agent is one of its own, as in the cluster: a fault of the call spoils all it asks.
      let address = `http://127.0.0.1:${await freePort()}`
      if (behaviour !== 'refused') {
        const faulty = await AgentSimulator.start({ agentId: 'a4' })
        t.teardown(() => faulty.close())
        faulty.setKernel(victim, behaviour)
        address = faulty.url
      }
      await w.call('PUT', '/v1/agents/a4', { address, scaling_group: 'default' })
      await w.call('PUT', `/v1/kernels/${victim}`, { session_id: randomUUID(), scaling_group: 'default', agent_id: 'a4', status: 'RUNNING' })
      const answer = await w.sweep()
      t.equal(answer.status, 201)
      t.same(answer.body.skipped.find((s: { kernel_id: string }) => s.kernel_id === victim), { kernel_id: victim, cause })
      t.same([...answer.body.terminated].sort(), [...w.dead].sort(), 'the sweep goes on for the others')
      await assertNoFalseTermination(t, w.app, [...w.alive, victim])
      row(t, fault, `201; kernel skipped with cause ${cause}, warning logged`, 'that kernel untouched; the dead ones still terminated')
    })
  }

  await t.test('SIGTERM while a sweep runs', async (t) => {
    const schema = await testDatabase(t)
    const { url: valkeyUrl } = await testRedisDb(t, REDIS_DB)
    const server = await startServerProcess(t, {
      DATABASE_URL: `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`,
      VALKEY_URL: valkeyUrl,
      AGENT_RPC_TIMEOUT_MS: '1500',
    })
    const call: Call = async (method, path, body) => {
      const response = await fetch(`${server.url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
      return { status: response.status, body: response.status === 204 ? null : await response.json() }
    }
    const w = await cluster(t, call, (agentId, kernels) => call('POST', `/v1/agents/${agentId}/presence`, { kernels: Object.fromEntries(kernels) }).then(() => {}))
    const pending = call('POST', '/v1/scaling-groups/default/sweeps', {})
    while (w.agents.get('a3')!.checksServed === 0) await sleep(10)
    server.child.kill('SIGTERM')
    const answer = await pending
    t.equal(answer.status, 201, 'the running sweep finished within the grace')
    t.same([...answer.body.terminated].sort(), [...w.dead].sort())
    t.equal(await server.exited, 0, 'then the process exited cleanly')
    const check = await testApp(t, REDIS_DB, { DATABASE_URL: `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}` })
    await assertNoFalseTermination(t, check.app, w.alive)
    row(t, 'SIGTERM while a sweep runs', 'stops accepting; the sweep finishes within the 8 s grace (201); exit 0', 'invariants in the database afterwards')
  })

  await t.test('two service processes sweeping the same group at the same moment', async (t) => {
    const schema = await testDatabase(t)
    const { url: valkeyUrl } = await testRedisDb(t, REDIS_DB)
    const env = {
      DATABASE_URL: `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`,
      VALKEY_URL: valkeyUrl,
      AGENT_RPC_TIMEOUT_MS: '1000',
    }
    const [one, two] = await Promise.all([startServerProcess(t, env), startServerProcess(t, env)])
    const callOn = (base: string): Call => async (method, path, body) => {
      const response = await fetch(`${base}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
      return { status: response.status, body: response.status === 204 ? null : await response.json() }
    }
    const w = await cluster(t, callOn(one.url), (agentId, kernels) => callOn(one.url)('POST', `/v1/agents/${agentId}/presence`, { kernels: Object.fromEntries(kernels) }).then(() => {}))
    const answers = await Promise.all([one.url, two.url].map((base) => callOn(base)('POST', '/v1/scaling-groups/default/sweeps', {})))
    t.same(answers.map((a) => a.status).sort(), [201, 409], 'one sweeps, the other is told a sweep is in progress')
    const done = answers.find((a) => a.status === 201)!
    t.same([...done.body.terminated].sort(), [...w.dead].sort())
    const check = await testApp(t, REDIS_DB, { DATABASE_URL: env.DATABASE_URL })
    await assertNoFalseTermination(t, check.app, w.alive)
    row(t, 'two service processes sweeping the same group at the same moment', 'one 201, the other 409 lock-busy with Retry-After', 'each dead kernel terminated once, one history row each')
  })
})
