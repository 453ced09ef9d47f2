import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { createSweeperClient } from '../clients/typescript/client.js'
import { testApp } from './helpers/app.js'
import { skipWithoutPostgres } from './helpers/postgres.js'
import { skipWithoutRedis } from './helpers/redis.js'
import { startScriptedAgent } from './helpers/scripted-agent.js'

/*
 * The README's "A walk through the API", step by step, through the generated typed client
 * (clients/typescript/) against the real service on a real socket — real Postgres, a redis-server
 * of its own, an agent on a socket of its own, and API_TOKEN set — so the client, the document it
 * was generated from and the service are checked against each other. As in the README, presence is
 * stale soon (PRESENCE_STALENESS_SEC) so that a killed kernel is seen terminated; this test also
 * keeps a second kernel alive beside it, which no sweep may touch.
 */

const TOKEN = 'walkthrough-token'
const GROUP = 'default'

/** The body of a call that must succeed with `status`; anything else fails the test, loudly. */
function dataOf<D> (t: Test, result: { data?: D, error?: unknown, response: Response }, status: number, what: string): D {
  t.equal(result.response.status, status, `${what}: ${status}`)
  if (result.data === undefined) throw new Error(`${what}: ${result.response.status} ${JSON.stringify(result.error)}`)
  return result.data
}

const skip = (await skipWithoutPostgres()) || (await skipWithoutRedis())

t.test('the README walk through the API, through the typed client', { skip }, async (t) => {
  // Presence times are whole seconds: with 1 s a heartbeat is stale 2 to 3 s after it was sent.
  const { app } = await testApp(t, 'own', { API_TOKEN: TOKEN, PRESENCE_STALENESS_SEC: '1' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const client = createSweeperClient(base, TOKEN)
  const agent = await startScriptedAgent(t, 'a1')

  const kernel = randomUUID() // the README's $K: runs, then is killed
  const other = randomUUID() // runs throughout: heartbeats, and its agent says it runs
  const spec = { session_id: randomUUID(), scaling_group: GROUP, agent_id: 'a1', status: 'RUNNING' } as const
  agent.answers.set(kernel, true)
  agent.answers.set(other, true)
  const heartbeat = async (kernels: Record<string, boolean>, what: string): Promise<void> => {
    const sent = await client.POST('/v1/agents/{agent_id}/presence', { params: { path: { agent_id: 'a1' } }, body: { kernels } })
    t.equal(sent.response.status, 204, `${what}: 204`)
  }
  const presenceOf = async (kernelId: string) =>
    dataOf(t, await client.GET('/v1/kernels/{kernel_id}/presence', { params: { path: { kernel_id: kernelId } } }), 200, 'presence')

  // API_TOKEN is set: without the token /v1 is 401 (a problem), the probes stay open.
  const anonymous = createSweeperClient(base)
  const refused = await anonymous.GET('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: kernel } } })
  t.equal(refused.response.status, 401)
  t.match(refused.error, { type: 'unauthorized', status: 401 })
  t.same(dataOf(t, await anonymous.GET('/healthz'), 200, 'healthz without a token'), { status: 'ok' })
  t.match(dataOf(t, await anonymous.GET('/readyz'), 200, 'readyz without a token'), { status: 'ok' })

  // Tell the service about a RUNNING kernel on agent a1; the other one through the bulk route.
  const put = await client.PUT('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: kernel } }, body: spec })
  t.match(dataOf(t, put, 200, 'put a kernel'), { kernel_id: kernel, ...spec, status_info: null, terminated_at: null, version: 1 })
  t.equal(put.response.headers.get('etag'), '"1"')
  t.same(dataOf(t, await client.PUT('/v1/kernels', { body: { kernels: [{ kernel_id: other, ...spec }] } }), 200, 'bulk put'), { upserted: 1 })
  t.same(await presenceOf(kernel), { kernel_id: kernel, presence: null, last_presence: null }, 'no heartbeat yet')

  // The agent registers itself (as the simulator does): where the sweeper asks whether its kernels run.
  const registered = dataOf(t, await client.PUT('/v1/agents/{agent_id}', {
    params: { path: { agent_id: 'a1' } },
    body: { address: agent.url, scaling_group: GROUP },
  }), 200, 'register the agent')
  t.match(registered, { agent_id: 'a1', address: agent.url, scaling_group: GROUP })
  t.match(dataOf(t, await client.GET('/v1/agents/{agent_id}', { params: { path: { agent_id: 'a1' } } }), 200, 'read it back'),
    { agent_id: 'a1', address: agent.url, scaling_group: GROUP, status: 'ALIVE', registered_at: registered.registered_at })

  // Its heartbeats, as it sends them.
  await heartbeat({ [kernel]: true, [other]: true }, 'heartbeat')
  const presence = await presenceOf(kernel)
  t.match(presence, { kernel_id: kernel, presence: 'ALIVE' })
  t.ok(typeof presence.last_presence === 'number' && Math.abs(presence.last_presence - Date.now() / 1000) < 60, 'last_presence is now, in seconds')

  // Every kernel has a version (its ETag); replace it only as last read, or get 412.
  const read = await client.GET('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: kernel } } })
  t.equal(dataOf(t, read, 200, 'read the kernel').version, 1)
  const etag = read.response.headers.get('etag')
  t.equal(etag, '"1"')
  const same = await client.PUT('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: kernel }, header: { 'if-match': etag ?? '' } }, body: spec })
  t.match(dataOf(t, same, 200, 'put it again at its ETag'), { kernel_id: kernel, version: 1 }, 'a PUT that changes nothing keeps the version')
  t.equal(same.response.headers.get('etag'), '"1"')
  const ahead = await client.PUT('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: kernel }, header: { 'if-match': '"2"' } }, body: spec })
  t.equal(ahead.response.status, 412, 'put it at an ETag it does not have: 412')
  t.match(ahead.response.headers.get('content-type'), /^application\/problem\+json/)
  t.match(ahead.error, { type: 'precondition-failed', status: 412, detail: /version 1, not 2/ })
  // A change at the ETag raises the version; the old ETag is then refused and nothing is written.
  const moved = { ...spec, session_id: randomUUID() }
  const replaced = await client.PUT('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: other }, header: { 'if-match': '"1"' } }, body: moved })
  t.match(dataOf(t, replaced, 200, 'replace the other at its ETag'), { kernel_id: other, session_id: moved.session_id, version: 2 })
  t.equal(replaced.response.headers.get('etag'), '"2"')
  const stale = await client.PUT('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: other }, header: { 'if-match': '"1"' } }, body: spec })
  t.equal(stale.response.status, 412, 'replace it at an old ETag: 412')
  t.match(stale.error, { type: 'precondition-failed', status: 412, detail: String })
  t.match(dataOf(t, await client.GET('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: other } } }), 200, 'unchanged'),
    { session_id: moved.session_id, version: 2 })

  // Kill the kernel: no more heartbeats for it, and asked, its agent says it does not run. Wait past the staleness.
  agent.answers.set(kernel, false)
  const deadline = Date.now() + 10_000
  let killed = await presenceOf(kernel)
  while (killed.presence !== 'STALE' && Date.now() < deadline) {
    await sleep(200)
    await heartbeat({ [other]: true }, 'heartbeat of the other')
    killed = await presenceOf(kernel)
  }
  t.match(killed, { kernel_id: kernel, presence: 'STALE', last_presence: presence.last_presence }, 'the killed kernel is stale')

  // Sweep the group: a dry run first — it finds the killed kernel dead and changes nothing.
  await heartbeat({ [other]: true }, 'heartbeat of the other')
  const dry = await client.POST('/v1/scaling-groups/{scaling_group}/sweeps', { params: { path: { scaling_group: GROUP } }, body: { dry_run: true } })
  const drySweep = dataOf(t, dry, 201, 'dry run')
  t.equal(dry.response.headers.get('location'), `/v1/sweeps/${drySweep.sweep_id}`)
  t.match(drySweep, { scaling_group: GROUP, handler: 'sweep-stale-kernels', dry_run: true, forced: false, outcome: 'dry_run', error: null })
  t.same(drySweep.result.failures, [{ kernel_id: kernel, from_status: 'RUNNING', reason: 'STALE_KERNEL' }])
  t.same(drySweep.result.successes.map((s) => s.kernel_id), [other])
  t.same(drySweep.terminated, [])
  t.same(drySweep.skipped, [])
  t.same(drySweep.counts, { kernels: 2, successes: 1, failures: 1, terminated: 0, skipped: 0 })
  t.match(dataOf(t, await client.GET('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: kernel } } }), 200, 'after the dry run'),
    { status: 'RUNNING', version: 1 })

  // Then for real, with no body (all defaults): the killed kernel is terminated, the live one not.
  await heartbeat({ [other]: true }, 'heartbeat of the other')
  const real = await client.POST('/v1/scaling-groups/{scaling_group}/sweeps', { params: { path: { scaling_group: GROUP } } })
  const sweep = dataOf(t, real, 201, 'sweep')
  t.equal(real.response.headers.get('location'), `/v1/sweeps/${sweep.sweep_id}`)
  t.match(sweep, { scaling_group: GROUP, dry_run: false, forced: false, outcome: 'completed', error: null })
  t.same(sweep.terminated, [kernel])
  t.same(sweep.result.failures, [{ kernel_id: kernel, from_status: 'RUNNING', reason: 'STALE_KERNEL' }])
  t.same(sweep.counts, { kernels: 2, successes: 1, failures: 1, terminated: 1, skipped: 0 })
  t.same(agent.asked, [kernel, kernel], 'the agent was asked about the killed kernel only, once per sweep')

  // Read the sweep back by its id, as it was answered; the group's sweeps (newest first); the kernels; the history.
  t.same(dataOf(t, await client.GET('/v1/sweeps/{sweep_id}', { params: { path: { sweep_id: sweep.sweep_id } } }), 200, 'read the sweep'), sweep)
  const list = dataOf(t, await client.GET('/v1/sweeps', { params: { query: { scaling_group: GROUP, limit: 5 } } }), 200, 'list sweeps')
  t.same(list.items.map((s) => [s.sweep_id, s.outcome]), [[sweep.sweep_id, 'completed'], [drySweep.sweep_id, 'dry_run']])
  t.match(dataOf(t, await client.GET('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: kernel } } }), 200, 'the killed kernel'),
    { status: 'TERMINATED', status_info: 'STALE_KERNEL', terminated_at: String, version: 2 })
  t.match(dataOf(t, await client.GET('/v1/kernels/{kernel_id}', { params: { path: { kernel_id: other } } }), 200, 'the live kernel'),
    { status: 'RUNNING', terminated_at: null, version: 2 })
  const history = dataOf(t, await client.GET('/v1/kernels/{kernel_id}/history', { params: { path: { kernel_id: kernel } } }), 200, 'history')
  t.match(history.items, [{ from_status: 'RUNNING', to_status: 'TERMINATED', reason: 'STALE_KERNEL', sweep_id: sweep.sweep_id, changed_at: String }])
  t.equal(history.items.length, 1)
  t.same(dataOf(t, await client.GET('/v1/kernels/{kernel_id}/history', { params: { path: { kernel_id: other } } }), 200, 'no history').items, [],
    'a PUT that changes no status writes no history')

  // Bad input is a 400 problem naming the field; an unknown id a 404 problem.
  const malformed = await client.GET('/v1/sweeps/{sweep_id}', { params: { path: { sweep_id: 'not-a-uuid' } } })
  t.equal(malformed.response.status, 400)
  t.match(malformed.response.headers.get('content-type'), /^application\/problem\+json/)
  t.match(malformed.error, { type: 'validation-error', status: 400, detail: /sweep_id/ })
  const unknown = await client.GET('/v1/sweeps/{sweep_id}', { params: { path: { sweep_id: randomUUID() } } })
  t.equal(unknown.response.status, 404)
  t.match(unknown.error, { type: 'not-found', status: 404 })
})
