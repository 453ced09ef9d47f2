import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

// Contract, first paragraph: kernel ids are UUIDs in the canonical 8-4-4-4-12 form, answered in
// lower case. Each spelling below is one that Postgres or ajv-formats would take as a UUID.
const MISSPELLINGS: Array<[string, (id: string) => string]> = [
  ['a urn:uuid: prefix', (id) => `urn:uuid:${id}`],
  ['braces', (id) => `{${id}}`],
  ['no dashes', (id) => id.replaceAll('-', '')],
]

const kernelBody = (overrides: Record<string, unknown> = {}) =>
  ({ session_id: randomUUID(), scaling_group: 'default', agent_id: 'a1', status: 'RUNNING', ...overrides })

t.test('only canonical UUIDs pass, on every route that takes ids', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app, raw } = await testApp(t, 'own')
  const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
    app.inject({ method, url, ...(payload === undefined ? {} : { payload }) })
  // The test's own redis-server may still be starting on a loaded machine; presence is written below.
  for (let tries = 0; tries < 100 && (await call('GET', '/readyz')).statusCode !== 200; tries++) await sleep(100)
  t.equal((await call('PUT', '/v1/agents/a1', { address: 'http://127.0.0.1:9', scaling_group: 'default' })).statusCode, 200)

  await t.test('a misspelt id is 400 problem details naming the field, and nothing is written', async (t) => {
    const id = randomUUID()
    const path = (misspell: (id: string) => string) => encodeURIComponent(misspell(id))
    for (const [name, misspell] of MISSPELLINGS) {
      const requests: Array<[string, 'GET' | 'PUT' | 'POST', string, object | undefined, RegExp]> = [
        ['PUT kernel, path', 'PUT', `/v1/kernels/${path(misspell)}`, kernelBody(), /^params\/kernel_id /],
        ['PUT kernel, session_id', 'PUT', `/v1/kernels/${id}`, kernelBody({ session_id: misspell(randomUUID()) }), /^body\/session_id /],
        ['PUT kernels, kernel_id', 'PUT', '/v1/kernels', { kernels: [{ kernel_id: misspell(id), ...kernelBody() }] }, /^body\/kernels\/0\/kernel_id /],
        ['PUT kernels, session_id', 'PUT', '/v1/kernels', { kernels: [{ kernel_id: id, ...kernelBody({ session_id: misspell(randomUUID()) }) }] }, /^body\/kernels\/0\/session_id /],
        ['GET kernel', 'GET', `/v1/kernels/${path(misspell)}`, undefined, /^params\/kernel_id /],
        ['GET history', 'GET', `/v1/kernels/${path(misspell)}/history`, undefined, /^params\/kernel_id /],
        ['GET presence', 'GET', `/v1/kernels/${path(misspell)}/presence`, undefined, /^params\/kernel_id /],
        ['GET sweep', 'GET', `/v1/sweeps/${path(misspell)}`, undefined, /^params\/sweep_id /],
        ['POST presence, a key', 'POST', '/v1/agents/a1/presence', { kernels: { [misspell(id)]: true } }, /^body\/kernels /],
        ['POST reconcile', 'POST', '/v1/agents/a1/reconcile', { kernels: [misspell(id)] }, /^body\/kernels\/0 /],
      ]
      for (const [route, method, url, payload, field] of requests) {
        const response = await call(method, url, payload)
        const what = `${route}, ${name}`
        t.equal(response.statusCode, 400, what)
        t.match(response.headers['content-type'], /^application\/problem\+json/, `${what}: problem details`)
        t.match(response.json(), { type: 'validation-error', status: 400, detail: field }, `${what}: the detail names the field`)
      }
    }
    t.same((await call('GET', '/v1/kernels')).json().items, [], 'no kernel written')
    t.same(await raw.keys('kernel:presence:*'), [], 'no presence written')
  })

  await t.test('an upper-case canonical id passes everywhere and is answered in lower case', async (t) => {
    const id = randomUUID()
    const session = randomUUID()
    const put = await call('PUT', `/v1/kernels/${id.toUpperCase()}`, kernelBody({ session_id: session.toUpperCase() }))
    t.equal(put.statusCode, 200, 'PUT kernel')
    t.match(put.json(), { kernel_id: id, session_id: session })

    const bulkId = randomUUID()
    const bulk = await call('PUT', '/v1/kernels', { kernels: [{ kernel_id: bulkId.toUpperCase(), ...kernelBody({ session_id: session.toUpperCase() }) }] })
    t.same(bulk.json(), { upserted: 1 }, 'PUT kernels')
    t.match((await call('GET', `/v1/kernels/${bulkId}`)).json(), { kernel_id: bulkId, session_id: session }, 'stored in lower case')

    const got = await call('GET', `/v1/kernels/${id.toUpperCase()}`)
    t.equal(got.statusCode, 200, 'GET kernel')
    t.match(got.json(), { kernel_id: id })
    const history = await call('GET', `/v1/kernels/${id.toUpperCase()}/history`)
    t.equal(history.statusCode, 200, 'GET history')

    const reported = await call('POST', '/v1/agents/a1/presence', { kernels: { [id.toUpperCase()]: true } })
    t.equal(reported.statusCode, 204, 'POST presence')
    const presence = await call('GET', `/v1/kernels/${id.toUpperCase()}/presence`)
    t.equal(presence.statusCode, 200, 'GET presence')
    t.match(presence.json(), { kernel_id: id, presence: 'ALIVE' }, 'the report was written under the lower-case id')

    const unknown = randomUUID()
    const reconciled = await call('POST', '/v1/agents/a1/reconcile', { kernels: [id.toUpperCase(), unknown.toUpperCase()] })
    t.equal(reconciled.statusCode, 200, 'POST reconcile')
    t.same(reconciled.json(), { orphans: [unknown], missing: [bulkId] })

    const sweep = (await call('POST', '/v1/scaling-groups/default/sweeps', { dry_run: true })).json()
    const read = await call('GET', `/v1/sweeps/${String(sweep.sweep_id).toUpperCase()}`)
    t.equal(read.statusCode, 200, 'GET sweep')
    t.equal(read.json().sweep_id, sweep.sweep_id)
    t.equal(sweep.sweep_id, String(sweep.sweep_id).toLowerCase())
  })
})
