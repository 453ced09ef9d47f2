import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { PostgresDatabase } from '../../src/persistence/postgres-database.js'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { freePort, skipWithoutRedis } from '../helpers/redis.js'

const REDIS_DB = 7

t.test('GET /healthz answers ok', async (t) => {
  const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0' }), { logger: false })
  t.teardown(() => app.close())

  const response = await app.inject({ method: 'GET', url: '/healthz' })

  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  t.same(response.json(), { status: 'ok' })
  t.same((await app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ok', checks: { database: 'ok', presence: 'ok' } }, 'embedded mode is ready')
})

t.test('operations on real stores', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  await t.test('/readyz: ok when both stores answer', async (t) => {
    const { app } = await testApp(t, REDIS_DB)
    const response = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(response.statusCode, 200)
    t.same(response.json(), { status: 'ok', checks: { database: 'ok', presence: 'ok' } })
  })

  await t.test('/readyz: 503 naming the presence store when Valkey is down, quickly; /healthz still ok', async (t) => {
    const { app } = await testApp(t, REDIS_DB, { VALKEY_URL: `redis://127.0.0.1:${await freePort()}/0` })
    const started = Date.now()
    const response = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(response.statusCode, 503)
    t.equal(response.json().checks.database, 'ok')
    t.not(response.json().checks.presence, 'ok')
    t.match(response.json().checks.presence, /^Valkey at 127\.0\.0\.1:\d+\/0 (does not answer|gave no answer within 1000 ms)$/, 'in its own words, naming the store')
    t.ok(Date.now() - started < 1_500)
    t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)

    const sweep = await app.inject({ method: 'PUT', url: '/v1/kernels/6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30', payload: { session_id: '0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f', scaling_group: 'default', agent_id: 'a1', status: 'RUNNING' } })
    t.equal(sweep.statusCode, 200)
    const failed = await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: {} })
    t.equal(failed.statusCode, 503, 'a sweep with the presence store down fails')
    t.match(failed.json(), { type: 'presence-unavailable', status: 503 })
    const recorded = await app.inject({ method: 'GET', url: `/v1/sweeps/${failed.json().sweep_id}` })
    t.match(recorded.json(), { outcome: 'failed', terminated: [] }, 'and is recorded')
    t.equal((await app.inject({ method: 'GET', url: '/v1/kernels/6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30' })).json().status, 'RUNNING')
  })

  await t.test('/readyz names where a store is, never its credentials', async (t) => {
    const port = await freePort()
    const { app } = await testApp(t, REDIS_DB, { VALKEY_URL: `redis://sweeper:hunter2@127.0.0.1:${port}/2` })
    const response = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(response.statusCode, 503)
    t.match(response.json().checks.presence, new RegExp(`^Valkey at 127\\.0\\.0\\.1:${port}/2 `))
    t.notMatch(response.body, /hunter2|sweeper@/)
    const db = new PostgresDatabase({ connectionString: 'postgres://sweeper:hunter2@db.internal:5433/kernels?sslmode=require' })
    t.equal(db.location, 'PostgreSQL at db.internal:5433/kernels')
    await db.close()
  })

  await t.test('/metrics speaks Prometheus and counts sweeps', async (t) => {
    const { app } = await testApp(t, REDIS_DB)
    await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: { dry_run: true } })
    const response = await app.inject({ method: 'GET', url: '/metrics' })
    t.equal(response.statusCode, 200)
    t.match(response.headers['content-type'], /^text\/plain/)
    t.match(response.body, /kernel_sweeper_sweeps_total\{scaling_group="default",outcome="dry_run"\} 1/)
    t.match(response.body, /# TYPE kernel_sweeper_sweep_duration_seconds histogram/)
    t.match(response.body, /process_cpu_seconds_total/)
  })

  await t.test('every log line of a sweep carries its sweep id', async (t) => {
    const { app, logs } = await testApp(t, REDIS_DB)
    await app.inject({ method: 'PUT', url: '/v1/kernels/6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30', payload: { session_id: '0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f', scaling_group: 'default', agent_id: null, status: 'RUNNING' } })
    const sweep = (await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: {} })).json()
    const lines = logs.filter((entry) => entry['sweep_id'] === sweep.sweep_id)
    t.ok(lines.some((entry) => /left alone: no_agent/.test(String(entry['msg']))), 'the terminator\'s warning')
    t.ok(lines.some((entry) => entry['msg'] === 'stale kernel check done'), 'the handler\'s line')
    t.ok(lines.some((entry) => entry['msg'] === 'sweep finished'), 'the coordinator\'s line')
    t.ok(lines.every((entry) => entry['scaling_group'] === 'default'))
  })
})
