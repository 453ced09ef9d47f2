import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { assertNoFalseTermination } from '../helpers/invariants.js'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'
import { OwnRedisServer, skipWithoutRedis } from '../helpers/redis.js'
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js'

// The built service's own figures (src/plugins/sweeper.ts, src/server.ts): running sweeps get
// 8 s, and the process is killed with exit code 1 at 12 s.
const GRACE_MS = 8_000
const KILLED_AT_MS = 12_000

// Each case waits out the whole grace, after starting a service and before starting another.
t.setTimeout(120_000)

/** An agent that accepts every call and never answers it. */
async function silentAgent (t: Test): Promise<{ url: string, calls: () => number }> {
  let calls = 0
  const server = createServer(() => { calls++ })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls }
}

/**
 * The built service on Postgres and a Valkey of its own, with three agents that never answer, one
 * call at a time, and three RUNNING kernels (one per agent) with no presence: all are suspects.
 */
async function world (t: Test, env: Record<string, string> = {}) {
  const schema = await testDatabase(t)
  const redis = await OwnRedisServer.start(t)
  const databaseUrl = `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`
  const server = await startServerProcess(t, {
    DATABASE_URL: databaseUrl,
    VALKEY_URL: redis.url,
    AGENT_RPC_CONCURRENCY: '1',
    AGENT_RPC_TIMEOUT_MS: '600000', // never, as far as this test goes
    ...env,
  })
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
    return { status: response.status, type: response.headers.get('content-type'), body: await response.json() as any }
  }
  const agents = [await silentAgent(t), await silentAgent(t), await silentAgent(t)]
  for (const [i, agent] of agents.entries()) {
    t.equal((await call('PUT', `/v1/agents/a${i}`, { address: agent.url, scaling_group: 'default' })).status, 200)
  }
  const kernelIds = agents.map(() => randomUUID())
  const upserted = await call('PUT', '/v1/kernels', {
    kernels: kernelIds.map((id, i) => ({ kernel_id: id, session_id: randomUUID(), scaling_group: 'default', agent_id: `a${i}`, status: 'RUNNING' })),
  })
  t.equal(upserted.status, 200)
  const callsMade = () => agents.reduce((sum, agent) => sum + agent.calls(), 0)
  return { server, call, callsMade, kernelIds, databaseUrl }
}

/** SIGTERM about a second into the sweep's first agent call; resolves with the exit code and when it came. */
async function terminateDuringSweep (t: Test, server: ServerProcess, callsMade: () => number) {
  while (callsMade() === 0) await sleep(20)
  await sleep(1_000)
  const signalled = Date.now()
  server.child.kill('SIGTERM')
  const code = await server.exited
  const exitedAfterMs = Date.now() - signalled
  t.equal(code, 0, 'the process exits cleanly')
  t.ok(exitedAfterMs >= GRACE_MS - 100, `after the sweep's grace (${exitedAfterMs} ms)`)
  t.ok(exitedAfterMs < KILLED_AT_MS, `and before it would be killed (${exitedAfterMs} ms < ${KILLED_AT_MS} ms)`)
  t.equal(callsMade(), 1, 'one call at a time: the two queued kernels were never asked')
  t.notOk(server.logs.some((entry) => /killed by timeout/.test(String(entry['msg']))), 'not killed by close-with-grace')
  t.same(server.logs.filter((entry) => /left alone/.test(String(entry['msg']))), [], 'the abandoned call is no skip warning')
  return { signalled }
}

/** The failed sweep as recorded, and the kernels, read by another instance on the same database. */
async function afterwards (t: Test, databaseUrl: string, kernelIds: readonly string[]) {
  const { app } = await testApp(t, 'own', { DATABASE_URL: databaseUrl })
  await assertNoFalseTermination(t, app, kernelIds)
  for (const id of kernelIds) {
    t.match((await app.inject({ method: 'GET', url: `/v1/kernels/${id}` })).json(), { status: 'RUNNING' }, `kernel ${id} unchanged`)
    t.same((await app.inject({ method: 'GET', url: `/v1/kernels/${id}/history` })).json().items, [])
  }
  return (await app.inject({ method: 'GET', url: '/v1/sweeps?scaling_group=default' })).json().items as any[]
}

t.test('shutdown while agents never answer', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  await t.test('a sweep requested over HTTP: 503 shutting-down with its sweep_id, recorded failed, exit 0 in time', async (t) => {
    const w = await world(t)
    // An empty reply (the process gone before it answered) is what this test is here to catch.
    const pending = w.call('POST', '/v1/scaling-groups/default/sweeps', {})
      .catch((error: unknown) => ({ status: 0, type: null, body: { error: String((error as Error).cause ?? error) } }))
    const { signalled } = await terminateDuringSweep(t, w.server, w.callsMade)

    const answer = await pending
    t.equal(answer.status, 503, `answered ${Date.now() - signalled} ms after SIGTERM`)
    t.match(answer.type, /^application\/problem\+json/)
    t.match(answer.body, { type: 'shutting-down', status: 503, sweep_id: /^[0-9a-f-]{36}$/ })

    const sweeps = await afterwards(t, w.databaseUrl, w.kernelIds)
    t.equal(sweeps.length, 1)
    t.match(sweeps[0], { sweep_id: answer.body.sweep_id, outcome: 'failed', terminated: [], error: /shutting down/ }, 'recorded failed, under the id the client was given')
  })

  await t.test('a background sweep: recorded failed, exit 0 in time', async (t) => {
    const w = await world(t, { SWEEP_INTERVAL_SEC: '1', SWEEP_INITIAL_DELAY_SEC: '0' })
    await terminateDuringSweep(t, w.server, w.callsMade)

    const sweeps = await afterwards(t, w.databaseUrl, w.kernelIds)
    t.equal(sweeps.length, 1)
    t.match(sweeps[0], { outcome: 'failed', terminated: [], error: /shutting down/ })
  })
})
