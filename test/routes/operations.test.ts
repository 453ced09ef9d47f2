import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { PACKAGE_VERSION } from '../../src/package-info.js'
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
  t.same((await app.inject({ method: 'GET', url: '/readyz' })).json(), {
    status: 'ok', checks: { database: 'ok', presence: 'ok' }, locations: { database: 'embedded PostgreSQL (PGlite) in memory://', presence: 'in-process presence' },
  }, 'embedded mode is ready')
})

t.test('operations on real stores', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  await t.test('/readyz: ok when both stores answer', async (t) => {
    const { app, valkeyUrl } = await testApp(t, REDIS_DB)
    const response = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(response.statusCode, 200)
    t.same(response.json(), {
      status: 'ok',
      checks: { database: 'ok', presence: 'ok' },
      locations: { database: app.persistence.db.location, presence: `Valkey at 127.0.0.1:${new URL(valkeyUrl).port}/${REDIS_DB}` },
    }, 'and says where each store is')
  })

  await t.test('/readyz: 503 naming the presence store when Valkey is down, quickly; /healthz still ok', async (t) => {
    const { app, logs } = await testApp(t, REDIS_DB, { VALKEY_URL: `redis://127.0.0.1:${await freePort()}/0`, STARTUP_TIMEOUT_SEC: '0' })
    const started = Date.now()
    const response = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(response.statusCode, 503)
    t.equal(response.json().checks.database, 'ok')
    t.not(response.json().checks.presence, 'ok')
    t.match(response.json().checks.presence, /^Valkey at 127\.0\.0\.1:\d+\/0 (does not answer|gave no answer within 1000 ms)$/, 'in its own words, naming the store')
    t.ok(Date.now() - started < 1_500)
    t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
    t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /kernel_sweeper_store_up\{store="presence"\} 0/, 'and the presence store is down in /metrics')

    const sweep = await app.inject({ method: 'PUT', url: '/v1/kernels/6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30', payload: { session_id: '0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f', scaling_group: 'default', agent_id: 'a1', status: 'RUNNING' } })
    t.equal(sweep.statusCode, 200)
    const failed = await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: {} })
    t.equal(failed.statusCode, 503, 'a sweep with the presence store down fails')
    t.match(failed.json(), { type: 'presence-unavailable', status: 503 })
    const recorded = await app.inject({ method: 'GET', url: `/v1/sweeps/${failed.json().sweep_id}` })
    t.match(recorded.json(), { outcome: 'failed', terminated: [] }, 'and is recorded')
    const failedLines = logs.filter((line) => line['request_id'] === failed.headers['x-request-id'] && (line['level'] as number) >= 40)
    t.match(failedLines, [{
      level: 50, msg: 'sweep failed', sweep_id: failed.json().sweep_id, outcome: 'failed', error: /^presence store unavailable: connect ECONNREFUSED/,
    }], 'logged once, by the coordinator, with its sweep id')
    t.notOk('stack' in failedLines[0]!, 'a store that is down is an expected fault: no stack')
    t.equal(failedLines[0]!['error'], failed.json().detail, 'its cause said once, as the answer says it')
    t.equal((await app.inject({ method: 'GET', url: '/v1/kernels/6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30' })).json().status, 'RUNNING')
  })

  await t.test('/readyz names where a store is, never its credentials', async (t) => {
    const port = await freePort()
    const { app } = await testApp(t, REDIS_DB, { VALKEY_URL: `redis://sweeper:hunter2@127.0.0.1:${port}/2`, STARTUP_TIMEOUT_SEC: '0' })
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

  await t.test('/metrics for an on-call: request durations by route, heartbeats, stores up, last successful sweep, build, series at zero', async (t) => {
    const { app } = await testApp(t, REDIS_DB)
    t.equal((await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: {} })).statusCode, 201)
    const kernelId = '6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30'
    t.equal((await app.inject({ method: 'POST', url: '/v1/agents/a1/presence', payload: { kernels: { [kernelId]: true } } })).statusCode, 204)
    t.equal((await app.inject({ method: 'POST', url: '/v1/agents/a1/presence', payload: { kernels: { 'not-a-uuid': true } } })).statusCode, 400)
    t.equal((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode, 404)
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body
    t.match(body, /kernel_sweeper_http_request_duration_seconds_count\{method="POST",route="\/v1\/scaling-groups\/:scaling_group\/sweeps",status="201"\} 1/)
    t.match(body, /kernel_sweeper_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/, 'no URL becomes a label')
    t.match(body, /kernel_sweeper_heartbeat_requests_total\{outcome="accepted"\} 1/)
    t.match(body, /kernel_sweeper_heartbeat_requests_total\{outcome="refused"\} 1/)
    t.match(body, /kernel_sweeper_store_up\{store="database"\} 1/)
    t.match(body, /kernel_sweeper_store_up\{store="presence"\} 1/)
    const last = Number(/kernel_sweeper_last_successful_sweep_timestamp_seconds\{scaling_group="default"\} ([\d.e+]+)/.exec(body)?.[1])
    t.ok(Math.abs(last - Date.now() / 1000) < 60, 'the last completed sweep of the group, in Unix seconds')
    t.match(body, new RegExp(`kernel_sweeper_build_info\\{version="${PACKAGE_VERSION.replaceAll('.', '\\.')}",node_version="${process.version.replaceAll('.', '\\.')}"\\} 1`))
    for (const series of ['kernels_terminated_total{reason="STALE_KERNEL"} 0', 'kernels_terminated_total{reason="AGENT_LOST"} 0', 'kernels_skipped_total{cause="agent_timeout"} 0']) {
      t.ok(body.includes(`kernel_sweeper_${series}`), `${series}: there before its first event`)
    }
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

  await t.test('logs an on-call can follow: sweep started and finished with trigger, duration and counts; request ids; quiet probes', async (t) => {
    const { app, logs } = await testApp(t, REDIS_DB)
    const answer = await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: { dry_run: true }, headers: { 'x-request-id': 'cp-call-42' } })
    t.equal(answer.headers['x-request-id'], 'cp-call-42', 'the caller\'s request id is echoed')
    const sweepId = answer.json().sweep_id as string
    t.match(logs.find((entry) => entry['sweep_id'] === sweepId && entry['msg'] === 'sweep started'),
      { trigger: 'api', handler: 'sweep-stale-kernels', dry_run: true, forced: false, request_id: 'cp-call-42' })
    t.match(logs.find((entry) => entry['sweep_id'] === sweepId && entry['msg'] === 'sweep finished'),
      { trigger: 'api', outcome: 'dry_run', dry_run: true, duration_ms: Number, kernels: 0, failures: 0, terminated: 0, skipped: 0 })
    t.match(logs.find((entry) => entry['msg'] === 'request answered' && entry['request_id'] === 'cp-call-42'),
      { level: 30, method: 'POST', status: 201, duration_ms: Number }, 'one line per request, with status and time')

    const generated = await app.inject({ method: 'GET', url: '/v1/sweeps', headers: { 'x-request-id': 'not ok\nforged: line' } })
    t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an unusable id is replaced by a fresh one')
    const before = logs.length
    for (const url of ['/healthz', '/readyz', '/metrics']) await app.inject({ method: 'GET', url })
    t.same(logs.slice(before).filter((entry) => Number(entry['level']) >= 30), [], 'probes write nothing at info')
    t.notOk(logs.some((entry) => entry['msg'] === 'incoming request' || entry['msg'] === 'request completed'), 'Fastify\'s two lines per request are gone')
  })
})
