import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import t, { type Test } from 'tap'
import { secondInstance, testApp, type TestApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'
import { startScriptedAgent, type ScriptedAgent } from '../helpers/scripted-agent.js'
import { assertCountsMatch } from '../helpers/sweeps.js'

/*
 * Contract §2 rule 11 end to end: with SWEEP_CONFIRMATIONS = N a kernel whose own agent says
 * "not running" is terminated only in the N-th sweep in a row that finds it so. Real Postgres (the
 * counts live there), real Redis, and a real agent on a socket.
 */

const GROUP = 'g'

interface Sweep {
  sweep_id: string
  outcome: string
  dry_run: boolean
  result: { successes: Array<{ kernel_id: string, from_status: string, reason: string | null }>, failures: Array<{ kernel_id: string, from_status: string, reason: string | null }> }
  terminated: string[]
  skipped: Array<{ kernel_id: string, cause: string, confirmations?: number }>
  counts: { kernels: number, successes: number, failures: number, terminated: number, skipped: number }
}

/** A sweep (201), whose `counts` match its lists, read back as answered. */
async function sweepOf (t: Test, app: FastifyInstance, body: Record<string, unknown> = {}): Promise<Sweep> {
  const response = await app.inject({ method: 'POST', url: `/v1/scaling-groups/${GROUP}/sweeps`, payload: body })
  t.equal(response.statusCode, 201, `sweep ${JSON.stringify(body)}: 201`)
  const sweep = response.json() as Sweep
  assertCountsMatch(t, sweep)
  t.same((await app.inject({ method: 'GET', url: `/v1/sweeps/${sweep.sweep_id}` })).json(), sweep, 'recorded as answered')
  return sweep
}

const ids = (list: Array<{ kernel_id: string }>) => list.map((entry) => entry.kernel_id)

/** The kernel awaits its k-th confirmation: RUNNING, a success, skipped with `confirmations: k`. */
function awaiting (t: Test, sweep: Sweep, kernelId: string, k: number): void {
  t.ok(ids(sweep.result.successes).includes(kernelId), `awaiting ${k}: in successes`)
  t.notOk(ids(sweep.result.failures).includes(kernelId), `awaiting ${k}: not in failures`)
  t.notOk(sweep.terminated.includes(kernelId), `awaiting ${k}: not terminated`)
  t.same(sweep.skipped.filter((entry) => entry.kernel_id === kernelId),
    [{ kernel_id: kernelId, cause: 'awaiting_confirmation', confirmations: k }], `skipped as awaiting_confirmation, confirmations ${k}`)
}

/** The kernel is a failure (the agent's "false" is confirmed): not skipped. */
function confirmedDead (t: Test, sweep: Sweep, kernelId: string): void {
  t.same(sweep.result.failures.filter((entry) => entry.kernel_id === kernelId),
    [{ kernel_id: kernelId, from_status: 'RUNNING', reason: 'STALE_KERNEL' }], 'a failure, STALE_KERNEL')
  t.notOk(ids(sweep.result.successes).includes(kernelId), 'not a success')
  t.notOk(ids(sweep.skipped).includes(kernelId), 'not skipped')
}

/** Left alone without a count: a plain success. */
function plainSuccess (t: Test, sweep: Sweep, kernelId: string): void {
  t.ok(ids(sweep.result.successes).includes(kernelId), 'a success')
  t.notOk(ids(sweep.result.failures).includes(kernelId), 'not a failure')
  t.notOk(ids(sweep.skipped).includes(kernelId), 'not skipped')
}

interface Fixture {
  readonly service: TestApp
  readonly app: FastifyInstance
  readonly agent: ScriptedAgent
  readonly kernelId: string
  readonly spec: Record<string, unknown>
  readonly kernel: (id?: string) => Promise<{ status: string, version: number }>
  /** The count stored in the database, with the version it was counted at (null: none). */
  readonly stored: (id?: string) => Promise<{ count: number, kernel_version: number } | null>
}

async function setUp (t: Test, env: Record<string, string>, kernelCount = 1): Promise<Fixture & { kernelIds: string[] }> {
  const service = await testApp(t, 'own', { AGENT_RPC_TIMEOUT_MS: '5000', ...env })
  const { app } = service
  const agent = await startScriptedAgent(t, 'A')
  t.equal((await app.inject({ method: 'PUT', url: '/v1/agents/A', payload: { address: agent.url, scaling_group: GROUP } })).statusCode, 200)
  const kernelIds = Array.from({ length: kernelCount }, () => randomUUID()).sort()
  const spec = { session_id: randomUUID(), scaling_group: GROUP, agent_id: 'A', status: 'RUNNING' }
  const put = await app.inject({ method: 'PUT', url: '/v1/kernels', payload: { kernels: kernelIds.map((id) => ({ kernel_id: id, ...spec })) } })
  t.equal(put.statusCode, 200)
  const db = new pg.Client({ connectionString: service.databaseUrl })
  await db.connect()
  t.teardown(() => db.end())
  const kernelId = kernelIds[0]!
  return {
    service,
    app,
    agent,
    kernelId,
    kernelIds,
    spec,
    kernel: async (id = kernelId) => (await app.inject({ method: 'GET', url: `/v1/kernels/${id}` })).json(),
    stored: async (id = kernelId) => {
      const { rows } = await db.query<{ count: number, kernel_version: number }>(
        'SELECT count, kernel_version FROM kernel_confirmations WHERE kernel_id = $1', [id])
      return rows[0] ?? null
    },
  }
}

const skip = (await skipWithoutPostgres()) || (await skipWithoutRedis())

t.test('SWEEP_CONFIRMATIONS=3: terminated in the third sweep in a row; dry runs neither count nor reset', { skip }, async (t) => {
  const { app, agent, kernelIds, kernel, stored } = await setUp(t, { SWEEP_CONFIRMATIONS: '3' }, 2)
  const [dead, alive] = kernelIds as [string, string]
  agent.answers.set(alive, true)

  const first = await sweepOf(t, app)
  t.equal(first.outcome, 'completed')
  awaiting(t, first, dead, 1)
  plainSuccess(t, first, alive)
  t.same(first.result.failures, [])
  t.same(first.terminated, [])
  t.same(ids(first.result.successes), [dead, alive].sort(), 'successes in input order')
  t.match(await kernel(dead), { status: 'RUNNING', version: 1 })
  t.match(await stored(dead), { count: 1, kernel_version: 1 }, 'the count is in the database')
  t.equal(await stored(alive), null, 'no count for the kernel its agent says runs')

  const dryBelow = await sweepOf(t, app, { dry_run: true })
  t.equal(dryBelow.outcome, 'dry_run')
  awaiting(t, dryBelow, dead, 2)
  t.same(dryBelow.result.failures, [], 'at count 1 of 3, a real sweep would not terminate: no failure')
  t.match(await stored(dead), { count: 1 }, 'the dry run did not count')

  const second = await sweepOf(t, app)
  awaiting(t, second, dead, 2)
  t.same(second.terminated, [])
  t.match(await kernel(dead), { status: 'RUNNING', version: 1 })
  t.match(await stored(dead), { count: 2, kernel_version: 1 })

  const dryAtLast = await sweepOf(t, app, { dry_run: true })
  confirmedDead(t, dryAtLast, dead)
  t.same(dryAtLast.terminated, [], 'a dry run terminates nothing')
  t.match(await stored(dead), { count: 2 }, 'nor counts')
  t.match(await kernel(dead), { status: 'RUNNING', version: 1 })
  const dryAgain = await sweepOf(t, app, { dry_run: true })
  confirmedDead(t, dryAgain, dead)
  t.match(await stored(dead), { count: 2 }, 'two dry runs in a row: still 2')

  const third = await sweepOf(t, app)
  t.equal(third.outcome, 'completed')
  confirmedDead(t, third, dead)
  plainSuccess(t, third, alive)
  t.same(third.terminated, [dead], 'the third sweep in a row terminates it')
  t.match(await kernel(dead), { status: 'TERMINATED', status_info: 'STALE_KERNEL', version: 2 })
  t.match(await kernel(alive), { status: 'RUNNING', version: 1 })
  const history = (await app.inject({ method: 'GET', url: `/v1/kernels/${dead}/history` })).json().items
  t.match(history, [{ from_status: 'RUNNING', to_status: 'TERMINATED', reason: 'STALE_KERNEL', sweep_id: third.sweep_id }])
  t.equal(history.length, 1, 'the awaiting sweeps wrote no history')
  t.equal(agent.asked.filter((id) => id === dead).length, 6, 'the agent was asked in every sweep, dry runs too')
})

t.test('SWEEP_CONFIRMATIONS=1 (the default): no count, terminated at once', { skip }, async (t) => {
  const { app, kernelId, kernel, stored } = await setUp(t, {})
  const sweep = await sweepOf(t, app)
  confirmedDead(t, sweep, kernelId)
  t.same(sweep.terminated, [kernelId])
  t.same(sweep.skipped, [])
  t.equal((await kernel()).status, 'TERMINATED')
  t.equal(await stored(), null, 'nothing counted')
})

t.test('resets', { skip }, async (t) => {
  const env = { SWEEP_CONFIRMATIONS: '3' }

  t.test('the agent says "running": the next "not running" starts again at 1', async (t) => {
    const { app, agent, kernelId, kernel, stored } = await setUp(t, env)
    awaiting(t, await sweepOf(t, app), kernelId, 1)
    awaiting(t, await sweepOf(t, app), kernelId, 2)
    agent.answers.set(kernelId, true)
    plainSuccess(t, await sweepOf(t, app), kernelId)
    t.equal(await stored(), null, 'reset')
    agent.answers.set(kernelId, false)
    awaiting(t, await sweepOf(t, app), kernelId, 1)
    awaiting(t, await sweepOf(t, app), kernelId, 2)
    t.equal((await kernel()).status, 'RUNNING')
    const last = await sweepOf(t, app)
    t.same(last.terminated, [kernelId], 'three in a row after the reset')
  })

  t.test('a PUT that changes the kernel (its version): starts again at 1', async (t) => {
    const { app, kernelId, spec, kernel, stored } = await setUp(t, env)
    awaiting(t, await sweepOf(t, app), kernelId, 1)
    awaiting(t, await sweepOf(t, app), kernelId, 2)
    const changed = await app.inject({ method: 'PUT', url: `/v1/kernels/${kernelId}`, payload: { ...spec, session_id: randomUUID() } })
    t.equal(changed.json().version, 2, 'a new session: version 2')
    const after = await sweepOf(t, app)
    awaiting(t, after, kernelId, 1)
    t.same(after.terminated, [])
    t.match(await stored(), { count: 1, kernel_version: 2 })
    t.match(await kernel(), { status: 'RUNNING', version: 2 })
  })

  t.test('an identical PUT (version unchanged) does not reset', async (t) => {
    const { app, kernelId, spec, kernel } = await setUp(t, env)
    awaiting(t, await sweepOf(t, app), kernelId, 1)
    awaiting(t, await sweepOf(t, app), kernelId, 2)
    const same = await app.inject({ method: 'PUT', url: `/v1/kernels/${kernelId}`, payload: spec })
    t.equal(same.json().version, 1)
    t.same((await sweepOf(t, app)).terminated, [kernelId])
    t.equal((await kernel()).status, 'TERMINATED')
  })

  t.test('not a suspect in between (a fresh heartbeat): starts again at 1', async (t) => {
    const { service, app, agent, kernelId, stored } = await setUp(t, env)
    awaiting(t, await sweepOf(t, app), kernelId, 1)
    awaiting(t, await sweepOf(t, app), kernelId, 2)
    const beat = await app.inject({ method: 'POST', url: '/v1/agents/A/presence', payload: { kernels: { [kernelId]: true } } })
    t.equal(beat.statusCode, 204)
    const asked = agent.asked.length
    plainSuccess(t, await sweepOf(t, app), kernelId)
    t.equal(agent.asked.length, asked, 'alive by presence: the agent was not asked')
    t.equal(await stored(), null, 'reset')
    await service.raw.del(`kernel:presence:${kernelId}`)
    awaiting(t, await sweepOf(t, app), kernelId, 1)
  })

  t.test('its check skipped for another cause (agent_error): starts again at 1', async (t) => {
    const { app, agent, kernelId, stored } = await setUp(t, env)
    awaiting(t, await sweepOf(t, app), kernelId, 1)
    awaiting(t, await sweepOf(t, app), kernelId, 2)
    agent.answers.set(kernelId, 'error')
    const failed = await sweepOf(t, app)
    t.same(failed.skipped, [{ kernel_id: kernelId, cause: 'agent_error' }])
    t.same(failed.result.failures, [])
    t.equal(await stored(), null, 'reset')
    agent.answers.set(kernelId, false)
    awaiting(t, await sweepOf(t, app), kernelId, 1)
  })
})

t.test('the count lives in the database: a restarted service continues it', { skip }, async (t) => {
  const env = { SWEEP_CONFIRMATIONS: '3', AGENT_RPC_TIMEOUT_MS: '5000' }
  const { service, app, kernelId, stored } = await setUp(t, env)
  awaiting(t, await sweepOf(t, app), kernelId, 1)
  awaiting(t, await sweepOf(t, app), kernelId, 2)
  await app.close()

  const restarted = await secondInstance(t, service, env)
  t.match(await stored(), { count: 2 })
  const dry = await sweepOf(t, restarted.app, { dry_run: true })
  confirmedDead(t, dry, kernelId)
  const third = await sweepOf(t, restarted.app)
  confirmedDead(t, third, kernelId)
  t.same(third.terminated, [kernelId], 'the third sweep, by the new instance, terminates it')
  t.match((await restarted.app.inject({ method: 'GET', url: `/v1/kernels/${kernelId}` })).json(), { status: 'TERMINATED', version: 2 })
})

t.test('the guard counts only the kernels this sweep would terminate', { skip }, async (t) => {
  const env = { SWEEP_CONFIRMATIONS: '2', GUARD_MIN_KERNELS: '1', GUARD_MAX_RATIO: '0.5' }

  t.test('kernels awaiting confirmation do not trip it', async (t) => {
    const { app, agent, kernelIds, kernel } = await setUp(t, env, 3)
    const [k1, k2, k3] = kernelIds as [string, string, string]
    agent.answers.set(k2, true)
    agent.answers.set(k3, true)

    const first = await sweepOf(t, app)
    t.equal(first.outcome, 'completed')
    awaiting(t, first, k1, 1)

    agent.answers.set(k2, false)
    // k1 confirmed (1 of 3 RUNNING: allowed); k2 awaiting. Were k2 counted, 2 of 3 > 0.5 would trip.
    const second = await sweepOf(t, app)
    t.equal(second.outcome, 'completed', 'not guard_tripped')
    confirmedDead(t, second, k1)
    awaiting(t, second, k2, 1)
    t.same(second.terminated, [k1])

    // k2 confirmed: 1 of the 2 RUNNING left, not more than half.
    const third = await sweepOf(t, app)
    t.equal(third.outcome, 'completed')
    confirmedDead(t, third, k2)
    t.same(third.terminated, [k2])
    t.equal((await kernel(k3)).status, 'RUNNING')
  })

  t.test('a confirmation held back by the guard may terminate in a later sweep', async (t) => {
    const { app, kernelIds, kernel } = await setUp(t, env, 2)
    const first = await sweepOf(t, app)
    t.equal(first.outcome, 'completed', 'both awaiting: nothing this sweep would terminate, no trip')
    for (const id of kernelIds) awaiting(t, first, id, 1)

    const second = await sweepOf(t, app)
    t.equal(second.outcome, 'guard_tripped', 'both confirmed: 2 of 2 trips the guard')
    for (const id of kernelIds) confirmedDead(t, second, id)
    t.same(second.terminated, [])

    const third = await sweepOf(t, app)
    t.equal(third.outcome, 'guard_tripped', 'still confirmed in the third sweep of the row')
    for (const id of kernelIds) confirmedDead(t, third, id)

    const forced = await sweepOf(t, app, { force: true })
    t.equal(forced.outcome, 'completed')
    t.same(forced.terminated, kernelIds, 'forced: the held-back kernels go')
    for (const id of kernelIds) t.equal((await kernel(id)).status, 'TERMINATED')
  })
})
