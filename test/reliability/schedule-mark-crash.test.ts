import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'
import { OwnRedisServer, skipWithoutRedis } from '../helpers/redis.js'
import { startScriptedAgent } from '../helpers/scripted-agent.js'
import { startServerProcess } from '../helpers/server-process.js'

/*
 * Rule 5: the need for the schedule mark commits with the terminations, so a service killed
 * between the commit and the mark sets it when it starts again. Valkey refuses the mark key to the
 * service (an ACL) while it sweeps, so the mark cannot be set and is only retried in memory; then
 * the process is killed (SIGKILL: no shutdown hook runs), Valkey lets the key be written again,
 * and a new process over the same database sets the mark at start-up.
 */
const MARK_KEY = 'schedule:detect_kernel_termination'

t.test('a service killed between the commit and the mark sets the mark when it starts again',
  { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
    const redis = await OwnRedisServer.start(t)
    const setup = new Redis(redis.url)
    await setup.call('ACL', 'SETUSER', 'tester', 'on', '>tester', 'allkeys', '+@all')
    // The service (the default user) gets everything a sweep needs in Valkey, but not the schedule marks.
    await setup.call('ACL', 'SETUSER', 'default', 'resetkeys', '~kernel:*', '~agent:*')
    setup.disconnect()
    const admin = new Redis(redis.url, { username: 'tester', password: 'tester' })
    t.teardown(() => { admin.disconnect() })
    const schema = await testDatabase(t)
    const env = {
      DATABASE_URL: `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`,
      VALKEY_URL: redis.url,
      AGENT_RPC_TIMEOUT_MS: '2000',
    }
    const agent = await startScriptedAgent(t, 'A') // a kernel it does not list is dead
    const first = await startServerProcess(t, env)
    const call = async (method: string, path: string, body: unknown) => {
      const response = await fetch(`${first.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      return { status: response.status, body: await response.json() as Record<string, unknown> }
    }
    const kernelId = randomUUID()
    t.equal((await call('PUT', '/v1/agents/A', { address: agent.url, scaling_group: 'g' })).status, 200)
    t.equal((await call('PUT', `/v1/kernels/${kernelId}`, { session_id: randomUUID(), scaling_group: 'g', agent_id: 'A', status: 'RUNNING' })).status, 200)

    const sweep = await call('POST', '/v1/scaling-groups/g/sweeps', {})
    t.equal(sweep.status, 201, 'the sweep answers: its terminations stand')
    t.same(sweep.body['terminated'], [kernelId])
    t.ok(first.logs.some((entry) => entry['msg'] === 'schedule mark not set; retrying in the background'), 'the mark failed')
    t.equal(await admin.get(MARK_KEY), null)
    const db = schema.open()
    t.same(await db.query('SELECT schedule_type FROM schedule_mark_needs'), [{ schedule_type: 'detect_kernel_termination' }],
      'the need is in the database')

    first.child.kill('SIGKILL')
    await first.exited
    await admin.call('ACL', 'SETUSER', 'default', 'allkeys')
    t.equal(await admin.get(MARK_KEY), null, 'nobody set it meanwhile')

    await startServerProcess(t, env)
    for (let i = 0; i < 50 && await admin.get(MARK_KEY) === null; i++) await sleep(100)
    t.equal(await admin.get(MARK_KEY), '1', 'set by the new process at start-up')
    t.same(await db.query('SELECT schedule_type FROM schedule_mark_needs'), [], 'and the need cleared')
  })
