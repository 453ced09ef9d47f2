import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { Pool } from 'undici'
import { AgentSimulator } from '../../src/agents/simulator/agent-simulator.js'
import { testApp } from '../helpers/app.js'
import { assertNoFalseTermination } from '../helpers/invariants.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const REDIS_DB = 14
const KERNELS = 10_000
const DEAD = 50
const SECONDS = 6
const UPDATES_PER_SECOND = 10_000
const BATCH = 1_000

function percentiles (samples: number[]): string {
  const sorted = samples.toSorted((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]?.toFixed(1)
  return `n=${sorted.length} p50=${at(0.5)} ms p95=${at(0.95)} ms max=${sorted.at(-1)?.toFixed(1)} ms`
}

// Correctness under load, with latencies reported (not asserted: targets belong in bench/).
t.test(`load: ${UPDATES_PER_SECOND} presence updates/s while sweeps of ${KERNELS} kernels run`, { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app } = await testApp(t, REDIS_DB, { LOG_LEVEL: 'warn' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const http = new Pool(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, { connections: 8 })
  t.teardown(() => http.close())
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => agent.close())
  await app.inject({ method: 'PUT', url: '/v1/agents/a1', payload: { address: agent.url, scaling_group: 'load' } })

  const ids = Array.from({ length: KERNELS }, () => randomUUID())
  const dead = new Set(ids.slice(0, DEAD))
  const alive = ids.slice(DEAD)
  await app.inject({
    method: 'PUT',
    url: '/v1/kernels',
    payload: { kernels: ids.map((id) => ({ kernel_id: id, session_id: randomUUID(), scaling_group: 'load', agent_id: 'a1', status: 'RUNNING' })) },
  })
  for (const id of ids) agent.setKernel(id, dead.has(id) ? 'dead' : 'running')

  const request = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const started = performance.now()
    const response = await http.request({
      method, path, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
    const text = await response.body.text()
    return { status: response.statusCode, ms: performance.now() - started, json: text === '' ? null : JSON.parse(text) }
  }

  const batches = Array.from({ length: alive.length / BATCH }, (_, i) => ({ kernels: Object.fromEntries(alive.slice(i * BATCH, (i + 1) * BATCH).map((id) => [id, true])) }))
  for (const batch of batches) await request('POST', '/v1/agents/a1/presence', batch) // every live kernel has a heartbeat

  const deadline = Date.now() + SECONDS * 1000
  const presenceMs: number[] = []
  const healthMs: number[] = []
  const sweepMs: number[] = []
  const problems: string[] = []
  let updates = 0

  const presenceLoad = (async () => {
    // 10 batches of 1,000 per second, paced.
    for (let tick = 0; Date.now() < deadline; tick++) {
      const due = deadline - SECONDS * 1000 + tick * (1000 * BATCH / UPDATES_PER_SECOND)
      if (due > Date.now()) await sleep(due - Date.now())
      const answer = await request('POST', '/v1/agents/a1/presence', batches[tick % batches.length])
      if (answer.status !== 204) problems.push(`presence ${answer.status}`)
      presenceMs.push(answer.ms)
      updates += BATCH
    }
  })()
  const health = (async () => {
    while (Date.now() < deadline) {
      const answer = await request('GET', '/healthz')
      if (answer.status !== 200) problems.push(`healthz ${answer.status}`)
      healthMs.push(answer.ms)
      await sleep(50)
    }
  })()
  const sweeps = (async () => {
    const results: Array<{ terminated: string[], successes: number, failures: number }> = []
    while (Date.now() < deadline) {
      const answer = await request('POST', '/v1/scaling-groups/load/sweeps', {})
      if (answer.status !== 201) problems.push(`sweep ${answer.status} ${JSON.stringify(answer.json)}`)
      else results.push({ terminated: answer.json.terminated, successes: answer.json.result.successes.length, failures: answer.json.result.failures.length })
      sweepMs.push(answer.ms)
    }
    return results
  })()
  const [, , results] = await Promise.all([presenceLoad, health, sweeps])

  t.same(problems, [], 'every request answered as it should')
  t.ok(results.length >= 2, `${results.length} sweeps completed`)
  t.same(results[0]?.terminated.toSorted(), [...dead].sort(), 'the first sweep terminated exactly the dead kernels')
  t.ok(results.slice(1).every((r) => r.terminated.length === 0 && r.successes === alive.length && r.failures === 0), 'later sweeps found every live kernel alive')
  await assertNoFalseTermination(t, app, alive)

  t.comment(`presence updates/s achieved: ${Math.round(updates / SECONDS)}`)
  t.comment(`sweep of ${KERNELS} kernels: ${percentiles(sweepMs)}`)
  t.comment(`presence POST of ${BATCH} kernels: ${percentiles(presenceMs)}`)
  t.comment(`GET /healthz: ${percentiles(healthMs)}`)
})
