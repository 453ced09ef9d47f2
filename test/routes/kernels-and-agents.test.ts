import { randomUUID } from 'node:crypto'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const REDIS_DB = 5
const kernelBody = (overrides: Record<string, unknown> = {}) =>
  ({ session_id: randomUUID(), scaling_group: 'default', agent_id: 'a1', status: 'RUNNING', ...overrides })

t.test('kernel and agent routes', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app, raw } = await testApp(t, REDIS_DB)
  const call = async (method: string, url: string, payload?: unknown) =>
    app.inject({ method: method as 'GET', url, ...(payload === undefined ? {} : { payload: payload as object }) })

  await t.test('PUT a kernel creates it, PUT again replaces it; a status change is history', async (t) => {
    const id = randomUUID()
    const created = await call('PUT', `/v1/kernels/${id}`, kernelBody())
    t.equal(created.statusCode, 200)
    t.match(created.json(), { kernel_id: id, status: 'RUNNING', status_info: null, terminated_at: null })
    t.same((await call('GET', `/v1/kernels/${id}/history`)).json(), { items: [] }, 'creating writes no history')

    const replaced = await call('PUT', `/v1/kernels/${id.toUpperCase()}`, kernelBody({ status: 'TERMINATED', agent_id: null }))
    t.match(replaced.json(), { kernel_id: id, status: 'TERMINATED', agent_id: null })
    t.ok(Date.parse(replaced.json().terminated_at) > 0)
    t.match((await call('GET', `/v1/kernels/${id}/history`)).json().items, [{ from_status: 'RUNNING', to_status: 'TERMINATED', reason: null, sweep_id: null }])
    t.same((await call('GET', `/v1/kernels/${id}`)).json(), replaced.json())
  })

  await t.test('bulk upsert, then paging through the list', async (t) => {
    const kernels = Array.from({ length: 25 }, () => ({ kernel_id: randomUUID(), ...kernelBody({ scaling_group: 'paged' }) }))
    t.same((await call('PUT', '/v1/kernels', { kernels })).json(), { upserted: 25 })
    const seen: string[] = []
    let url = '/v1/kernels?scaling_group=paged&status=RUNNING&limit=10'
    for (;;) {
      const page = (await call('GET', url)).json()
      seen.push(...page.items.map((k: { kernel_id: string }) => k.kernel_id))
      if (page.next_cursor === null) break
      url = `/v1/kernels?scaling_group=paged&limit=10&cursor=${encodeURIComponent(page.next_cursor)}`
    }
    t.same(seen, kernels.map((k) => k.kernel_id).sort())
  })

  await t.test('bad input is a 400 naming the field, and nothing is written', async (t) => {
    const id = randomUUID()
    const cases: Array<[string, string, string, unknown, RegExp]> = [
      ['unknown field', 'PUT', `/v1/kernels/${id}`, { ...kernelBody(), colour: 'red' }, /colour is not allowed/],
      ['missing field', 'PUT', `/v1/kernels/${id}`, { ...kernelBody(), status: undefined }, /status is required/],
      ['unknown status', 'PUT', `/v1/kernels/${id}`, kernelBody({ status: 'ZOMBIE' }), /status/],
      ['agent id with a path', 'PUT', `/v1/kernels/${id}`, kernelBody({ agent_id: '../etc' }), /agent_id/],
      ['scaling group too long', 'PUT', `/v1/kernels/${id}`, kernelBody({ scaling_group: 'g'.repeat(65) }), /scaling_group/],
      ['malformed kernel id', 'PUT', '/v1/kernels/k1', kernelBody(), /params\/kernel_id/],
      ['SQL in the id', 'GET', "/v1/kernels/1'%20OR%20'1'='1", undefined, /params\/kernel_id/],
      ['empty bulk', 'PUT', '/v1/kernels', { kernels: [] }, /kernels/],
      ['limit out of range', 'GET', '/v1/kernels?limit=1001', undefined, /limit/],
      ['unknown query field', 'GET', '/v1/kernels?colour=red', undefined, /colour is not allowed/],
      ['a cursor not issued here', 'GET', '/v1/kernels?cursor=bm9wZQ', undefined, /cursor/],
      ['agent address not http', 'PUT', '/v1/agents/a1', { address: 'file:///etc/passwd', scaling_group: 'default' }, /address/],
      ['presence not boolean', 'POST', '/v1/agents/a1/presence', { kernels: { [id]: 'true' } }, /boolean/],
      ['presence for a malformed id', 'POST', '/v1/agents/a1/presence', { kernels: { k1: true } }, /kernels/],
      ['presence with nothing', 'POST', '/v1/agents/a1/presence', { kernels: {} }, /kernels/],
    ]
    for (const [name, method, url, payload, detail] of cases) {
      const response = await call(method, url, payload)
      t.equal(response.statusCode, 400, name)
      t.match(response.headers['content-type'], /^application\/problem\+json/, `${name}: problem details`)
      t.match(response.json(), { type: 'validation-error', status: 400, detail }, name)
    }
    t.equal((await call('GET', `/v1/kernels/${id}`)).statusCode, 404, 'nothing written')
    t.equal(await raw.exists(`kernel:presence:${id}`), 0, 'no presence written')
    t.equal((await call('GET', '/v1/agents/a1')).statusCode, 404)
  })

  await t.test('a bulk of 10,001 is refused whole', async (t) => {
    const kernels = Array.from({ length: 10_001 }, () => ({ kernel_id: randomUUID(), ...kernelBody({ scaling_group: 'huge' }) }))
    const response = await call('PUT', '/v1/kernels', { kernels })
    t.equal(response.statusCode, 400)
    t.match(response.json().detail, /kernels must NOT have more than 10000 items/)
    t.same((await call('GET', '/v1/kernels?scaling_group=huge')).json().items, [])
  })

  await t.test('bodies over the limit are 413; malformed JSON is 400', async (t) => {
    const big = await call('POST', '/v1/scaling-groups/default/sweeps', { force: false, pad: 'x'.repeat(1_100_000) })
    t.equal(big.statusCode, 413)
    t.match(big.json(), { type: 'body-too-large' })
    const malformed = await app.inject({ method: 'PUT', url: `/v1/kernels/${randomUUID()}`, headers: { 'content-type': 'application/json' }, payload: '{"session_id":' })
    t.equal(malformed.statusCode, 400)
    t.match(malformed.json(), { type: 'malformed-json' })
  })

  await t.test('unknown ids are 404 problem details', async (t) => {
    for (const url of [`/v1/kernels/${randomUUID()}`, `/v1/kernels/${randomUUID()}/history`, `/v1/kernels/${randomUUID()}/presence`, '/v1/agents/nobody', `/v1/sweeps/${randomUUID()}`, '/v1/nothing-here']) {
      const response = await call('GET', url)
      t.equal(response.statusCode, 404, url)
      t.match(response.json(), { type: 'not-found', status: 404 })
    }
  })

  await t.test('agents: register, read; presence: written as Backend.AI does, read back', async (t) => {
    const registered = await call('PUT', '/v1/agents/i-agent.07', { address: 'http://127.0.0.1:9107', scaling_group: 'default' })
    t.match(registered.json(), { agent_id: 'i-agent.07', address: 'http://127.0.0.1:9107', scaling_group: 'default' })
    t.same((await call('GET', '/v1/agents/i-agent.07')).json(), registered.json())

    const [running, unhealthy] = [randomUUID(), randomUUID()]
    await call('PUT', `/v1/kernels/${running}`, kernelBody())
    const posted = await call('POST', '/v1/agents/i-agent.07/presence', { kernels: { [running]: true, [unhealthy]: false } })
    t.equal(posted.statusCode, 204)
    t.match(await raw.hgetall(`kernel:presence:${running}`), { presence: '1' })
    t.match(await raw.hgetall(`kernel:presence:${unhealthy}`), { presence: '0' }, 'no database lookup: any well-formed id')
    const presence = (await call('GET', `/v1/kernels/${running}/presence`)).json()
    t.match(presence, { kernel_id: running, presence: 'ALIVE' })
    t.type(presence.last_presence, 'number')
    t.equal(await raw.hexists(`kernel:presence:${running}`, 'last_check'), 0, 'reading records no check')
  })

  await t.test('sweeps: list newest first, filter, and reject a mistyped dry run', async (t) => {
    const mistyped = await call('POST', '/v1/scaling-groups/default/sweeps', { dryrun: true })
    t.equal(mistyped.statusCode, 400)
    t.match(mistyped.json().detail, /dryrun is not allowed/)
    const stringly = await call('POST', '/v1/scaling-groups/default/sweeps', { dry_run: 'true' })
    t.equal(stringly.statusCode, 400, 'body values are not coerced')
    t.equal((await call('POST', '/v1/scaling-groups/..%2Fetc/sweeps', {})).statusCode, 400)
    t.same((await call('GET', '/v1/sweeps')).json(), { items: [] }, 'no sweep ran')

    const bare = await app.inject({ method: 'POST', url: '/v1/scaling-groups/nobody-here/sweeps' })
    t.equal(bare.statusCode, 201, 'no body at all, and a group with no kernels: a normal, empty sweep')
    t.match(bare.json(), { outcome: 'completed', result: { successes: [], failures: [] } })
    const dry = await call('POST', '/v1/scaling-groups/default/sweeps', { dry_run: true })
    const listed = (await call('GET', '/v1/sweeps?limit=1')).json().items
    t.same(listed.map((s: { sweep_id: string }) => s.sweep_id), [dry.json().sweep_id])
    t.same((await call('GET', '/v1/sweeps?scaling_group=nobody-here')).json().items.map((s: { sweep_id: string }) => s.sweep_id), [bare.json().sweep_id])
    t.equal((await call('GET', '/v1/sweeps?limit=501')).statusCode, 400)
  })
})
