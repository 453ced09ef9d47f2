import { randomUUID } from 'node:crypto'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { PresenceKeys } from '../../src/presence/presence-store.js'
import { CONNECTION_NAME } from '../../src/presence/valkey-connection.js'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'
import { startScriptedAgent } from '../helpers/scripted-agent.js'
import { SentinelCluster } from '../helpers/sentinel.js'

/*
 * Contract §7 on real processes: a master, a replica and three sentinels on private loopback
 * ports; the service (in process, on real Postgres) finds the master through the sentinels. The
 * master is killed (SIGKILL), and then switched on purpose (SENTINEL FAILOVER), while heartbeats
 * and sweeps keep coming: during the failover they answer 503 within bounded time and nothing is
 * terminated; after the promotion they work again, without a restart, on the new master; the
 * demoted master never hears from the service; /readyz names the master in use.
 */

const GROUP = 'default'
const DB = 2
// Every answer during a failover comes in this time: the service fails fast, it does not wait.
const ANSWER_BOUND_MS = 3_000

interface Service {
  readonly app: FastifyInstance
  readonly logs: Array<Record<string, unknown>>
}

async function startService (t: Test, cluster: SentinelCluster): Promise<Service> {
  const schema = await testDatabase(t)
  const logs: Array<Record<string, unknown>> = []
  const logStream = new PassThrough()
  logStream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
  })
  const app = await buildApp(loadConfig({
    DATABASE_URL: `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`,
    VALKEY_SENTINELS: cluster.sentinels,
    VALKEY_DB: String(DB),
    SWEEP_INTERVAL_SEC: '0',
    AGENT_RPC_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'info',
  }), { logStream })
  t.teardown(() => app.close())
  await app.ready()
  return { app, logs }
}

/** A group of kernels on agent a1: `alive` heartbeat and run, `dead` neither. */
async function fleet (t: Test, app: FastifyInstance, alive: number) {
  const agent = await startScriptedAgent(t, 'a1')
  t.equal((await app.inject({ method: 'PUT', url: '/v1/agents/a1', payload: { address: agent.url, scaling_group: GROUP } })).statusCode, 200)
  const put = async (count: number, running: boolean): Promise<string[]> => {
    const ids = Array.from({ length: count }, () => randomUUID())
    for (const id of ids) {
      agent.answers.set(id, running)
      const answer = await app.inject({ method: 'PUT', url: `/v1/kernels/${id}`, payload: { session_id: randomUUID(), scaling_group: GROUP, agent_id: 'a1', status: 'RUNNING' } })
      if (answer.statusCode !== 200) throw new Error(`put kernel: ${answer.statusCode}`)
    }
    return ids
  }
  const aliveIds = await put(alive, true)
  return {
    alive: aliveIds,
    put,
    heartbeat: () => app.inject({ method: 'POST', url: '/v1/agents/a1/presence', payload: { kernels: Object.fromEntries(aliveIds.map((id) => [id, true])) } }),
  }
}

interface Timed { readonly status: number, readonly ms: number }

async function timed (call: () => Promise<{ statusCode: number }>): Promise<Timed> {
  const started = performance.now()
  const { statusCode } = await call()
  return { status: statusCode, ms: performance.now() - started }
}

/** Heartbeats and sweeps every 100 ms until both succeed `successes` times in a row on `newMaster`. */
async function driveThroughFailover (
  cluster: SentinelCluster, app: FastifyInstance, heartbeat: () => Promise<{ statusCode: number }>, newMaster: number, timeoutMs = 45_000
): Promise<{ heartbeats: Timed[], sweeps: Timed[], terminated: string[] }> {
  const heartbeats: Timed[] = []
  const sweeps: Timed[] = []
  const terminated: string[] = []
  const deadline = Date.now() + timeoutMs
  let inARow = 0
  while (inARow < 3) {
    if (Date.now() > deadline) throw new Error(`no recovery within ${timeoutMs} ms: ${JSON.stringify({ heartbeats: heartbeats.slice(-3), sweeps: sweeps.slice(-3) })}`)
    const beat = await timed(heartbeat)
    let sweepBody: { terminated?: string[] } = {}
    const sweep = await timed(async () => {
      const answer = await app.inject({ method: 'POST', url: `/v1/scaling-groups/${GROUP}/sweeps`, payload: {} })
      sweepBody = answer.json()
      return answer
    })
    heartbeats.push(beat)
    sweeps.push(sweep)
    terminated.push(...(sweepBody.terminated ?? []))
    inARow = beat.status === 204 && sweep.status === 201 && (await cluster.masterPort()) === newMaster ? inARow + 1 : 0
    await sleep(100)
  }
  return { heartbeats, sweeps, terminated }
}

/** The clients of the service connected to the node on `port` (its connections carry CONNECTION_NAME). */
async function serviceClientsOn (port: number): Promise<number> {
  const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  node.on('error', () => {})
  try {
    await node.connect()
    const list = await node.client('LIST') as string
    return list.split('\n').filter((line) => line.includes(` name=${CONNECTION_NAME} `)).length
  } finally {
    node.disconnect()
  }
}

async function roleOf (port: number): Promise<string | null> {
  const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  node.on('error', () => {})
  try {
    await node.connect()
    return /role:(\w+)/.exec(await node.info('replication'))?.[1] ?? null
  } catch {
    return null
  } finally {
    node.disconnect()
  }
}

async function readyz (app: FastifyInstance): Promise<{ statusCode: number, presence: string, location: string }> {
  const answer = await app.inject({ method: 'GET', url: '/readyz' })
  return { statusCode: answer.statusCode, presence: answer.json().checks.presence, location: answer.json().locations.presence }
}

async function statusesOf (app: FastifyInstance, ids: readonly string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await app.inject({ method: 'GET', url: `/v1/kernels/${id}` })).json().status as string))
}

function assertBounded (t: Test, calls: readonly Timed[], what: string): void {
  const slowest = Math.max(...calls.map((call) => call.ms))
  t.ok(slowest < ANSWER_BOUND_MS, `${what}: every answer within ${ANSWER_BOUND_MS} ms (slowest ${Math.round(slowest)} ms)`)
  t.same([...new Set(calls.map((call) => call.status))].filter((status) => status !== 204 && status !== 201 && status !== 503), [], `${what}: answered done or 503, nothing else`)
}

const skip = (await skipWithoutPostgres()) || (await skipWithoutRedis())

t.test('the master killed: 503 in bounded time while the sentinels promote the replica, then the new master, without a restart', { skip }, async (t) => {
  const cluster = await SentinelCluster.start(t)
  const [oldMaster, replica] = cluster.nodes
  const { app, logs } = await startService(t, cluster)
  const { alive, put, heartbeat } = await fleet(t, app, 20)
  t.equal((await heartbeat()).statusCode, 204)
  const ready = await readyz(app)
  t.equal(ready.statusCode, 200)
  t.equal(ready.location, `Valkey master mymaster at 127.0.0.1:${oldMaster.port}/${DB} through sentinels ${cluster.sentinels}`, '/readyz names the master in use')
  const deadBefore = await put(3, false)
  const first = (await app.inject({ method: 'POST', url: `/v1/scaling-groups/${GROUP}/sweeps`, payload: {} })).json()
  t.same([...first.terminated].sort(), [...deadBefore].sort(), 'before: the dead are terminated, through the master')

  const deadDuring = await put(3, false) // dead all along: the sweep after the promotion finds them
  await oldMaster.stop() // SIGKILL
  const during = await readyz(app)
  t.equal(during.statusCode, 503, '/readyz: unavailable while there is no master')
  const drive = await driveThroughFailover(cluster, app, heartbeat, replica.port)
  t.ok(drive.heartbeats.some((call) => call.status === 503), 'heartbeats answered 503 during the failover')
  t.ok(drive.sweeps.some((call) => call.status === 503), 'sweeps answered 503 during the failover')
  assertBounded(t, drive.heartbeats, 'heartbeats')
  assertBounded(t, drive.sweeps, 'sweeps')
  t.same([...new Set(drive.terminated)].sort(), [...deadDuring].sort(), 'only the dead were terminated')
  t.same(new Set(await statusesOf(app, alive)), new Set(['RUNNING']), 'no live kernel terminated')

  const after = await readyz(app)
  t.equal(after.statusCode, 200)
  t.equal(after.location, `Valkey master mymaster at 127.0.0.1:${replica.port}/${DB} through sentinels ${cluster.sentinels}`, '/readyz names the new master')
  const onNewMaster = new Redis(`redis://127.0.0.1:${replica.port}/${DB}`)
  t.teardown(() => { onNewMaster.disconnect() })
  t.equal(await onNewMaster.hget(PresenceKeys.kernel(alive[0]!), 'presence'), '1', 'heartbeats are written to the new master')
  t.match(logs.filter((line) => line['store'] === 'presence').map((line) => line['msg']), ['presence store lost: presence reads and writes answer 503 until it is back', 'presence store recovered'], 'lost and recovered, once each')

  // The old master comes back, empty and calling itself master until the sentinels make it a replica.
  await oldMaster.start()
  const deadline = Date.now() + 30_000
  let demoted = false
  const beats: number[] = []
  const clientsOnOld: number[] = []
  while (Date.now() < deadline && !demoted) {
    beats.push((await heartbeat()).statusCode)
    clientsOnOld.push(await serviceClientsOn(oldMaster.port))
    demoted = (await roleOf(oldMaster.port)) === 'slave'
    await sleep(200)
  }
  t.ok(demoted, 'the sentinels made the old master a replica')
  t.same(new Set(beats), new Set([204]), `heartbeats went on meanwhile (${beats.length})`)
  t.same(new Set(clientsOnOld), new Set([0]), 'the service never connected to the old master meanwhile')
  t.equal((await heartbeat()).statusCode, 204)
  t.equal(await serviceClientsOn(oldMaster.port), 0, 'still none once it is a replica')
  t.ok(await serviceClientsOn(replica.port) > 0, 'the service is on the new master')
})

t.test('a planned switch (SENTINEL FAILOVER): the same, and the demoted master is left at once', { skip }, async (t) => {
  const cluster = await SentinelCluster.start(t)
  const [master, replica] = cluster.nodes
  const { app } = await startService(t, cluster)
  const { alive, put, heartbeat } = await fleet(t, app, 20)
  t.equal((await heartbeat()).statusCode, 204)
  t.ok(await serviceClientsOn(master.port) > 0)
  const dead = await put(3, false)

  await cluster.failover()
  const drive = await driveThroughFailover(cluster, app, heartbeat, replica.port)
  assertBounded(t, drive.heartbeats, 'heartbeats')
  assertBounded(t, drive.sweeps, 'sweeps')
  t.same([...new Set(drive.terminated)].sort(), [...dead].sort(), 'only the dead were terminated')
  t.same(new Set(await statusesOf(app, alive)), new Set(['RUNNING']), 'no live kernel terminated')
  t.equal(await serviceClientsOn(master.port), 0, 'the service has left the old master')
  const deadline = Date.now() + 30_000
  while ((await roleOf(master.port)) !== 'slave' && Date.now() < deadline) await sleep(100)
  t.equal(await roleOf(master.port), 'slave', 'which the sentinels have made a replica')
  t.equal(await serviceClientsOn(master.port), 0, 'and the service stays away')
  t.match((await readyz(app)).location, `at 127.0.0.1:${replica.port}/${DB}`, '/readyz names the new master')
  await cluster.untilSettled(replica.port)
})
