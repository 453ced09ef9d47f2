import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const SWEEP = '/v1/scaling-groups/g/sweeps'
const json = { 'content-type': 'application/json' }

t.test('repeated keys in request bodies', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app } = await testApp(t, 'own')
  const kernelId = randomUUID()
  await app.inject({ method: 'PUT', url: `/v1/kernels/${kernelId}`, payload: { session_id: randomUUID(), scaling_group: 'g', agent_id: null, status: 'RUNNING' } })
  const sweeps = async () => (await app.inject({ method: 'GET', url: '/v1/sweeps?scaling_group=g' })).json().items

  await t.test('an ambiguous sweep order is 400 malformed-json, and no sweep runs', async (t) => {
    const bodies: Array<[string, string, string]> = [
      ['dry_run twice', '{"dry_run": true, "dry_run": false}', '"dry_run"'],
      ['the same value twice', '{"force": false, "force": false}', '"force"'],
      ['spelt with an escape', '{"dry_run": true, "dry_\\u0072un": false}', '"dry_run"'],
    ]
    for (const [name, payload, key] of bodies) {
      const response = await app.inject({ method: 'POST', url: SWEEP, headers: json, payload })
      t.equal(response.statusCode, 400, name)
      t.match(response.headers['content-type'], /^application\/problem\+json/, `${name}: problem details`)
      t.match(response.json(), { type: 'malformed-json', status: 400 }, name)
      t.match(response.json().detail, `the key ${key} appears more than once in /`, `${name}: the detail names the key`)
    }
    t.same(await sweeps(), [], 'no sweep was recorded')
  })

  await t.test('what Fastify does with other bodies is unchanged', async (t) => {
    const refused: Array<[string, string]> = [
      ['not JSON', '{"dry_run": tru'],
      ['empty with a JSON content type', ''],
      ['prototype poisoning', '{"__proto__": {"dry_run": false}}'],
    ]
    for (const [name, payload] of refused) {
      const response = await app.inject({ method: 'POST', url: SWEEP, headers: json, payload })
      t.equal(response.statusCode, 400, name)
      t.match(response.json(), { type: 'malformed-json' }, name)
    }
    t.same(await sweeps(), [])
  })

  await t.test('a body without repeats sweeps, and so does no body at all', async (t) => {
    const dryRun = await app.inject({ method: 'POST', url: SWEEP, headers: json, payload: '{"dry_run": true, "force": false}' })
    t.equal(dryRun.statusCode, 201)
    t.match(dryRun.json(), { outcome: 'dry_run', dry_run: true })
    const plain = await app.inject({ method: 'POST', url: SWEEP })
    t.equal(plain.statusCode, 201, 'no body: a plain sweep')
    t.match(plain.json(), { outcome: 'completed', dry_run: false, skipped: [{ kernel_id: kernelId, cause: 'no_agent' }] })
    t.equal((await sweeps()).length, 2)
  })

  await t.test('other routes keep the plain parser', async (t) => {
    // Only the sweep and decommission routes are held to this; the 8 MiB heartbeat bodies are not scanned twice.
    const payload = `{"kernels": {"${kernelId}": false, "${kernelId}": true}}`
    const response = await app.inject({ method: 'POST', url: '/v1/agents/a1/presence', headers: json, payload })
    t.equal(response.statusCode, 204)
    t.match((await app.inject({ method: 'GET', url: `/v1/kernels/${kernelId}/presence` })).json(), { presence: 'ALIVE' }, 'the last value counts, as JSON.parse has it')
  })

  await t.test('an agent answering with a repeated key: a real sweep skips the kernel as agent_error and terminates nothing', async (t) => {
    const victim = randomUUID()
    const agent = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(`{"agent_id":"a2","kernel_id":"${victim}","running": true, "running": false}`)
    })
    agent.listen(0, '127.0.0.1')
    await once(agent, 'listening')
    t.teardown(() => { agent.closeAllConnections(); agent.close() })
    await app.inject({ method: 'PUT', url: '/v1/agents/a2', payload: { address: `http://127.0.0.1:${(agent.address() as AddressInfo).port}`, scaling_group: 'h' } })
    await app.inject({ method: 'PUT', url: `/v1/kernels/${victim}`, payload: { session_id: randomUUID(), scaling_group: 'h', agent_id: 'a2', status: 'RUNNING' } })

    const sweep = await app.inject({ method: 'POST', url: '/v1/scaling-groups/h/sweeps', headers: json, payload: '{"dry_run": false}' })

    t.equal(sweep.statusCode, 201)
    t.match(sweep.json(), { outcome: 'completed', terminated: [], skipped: [{ kernel_id: victim, cause: 'agent_error' }] })
    t.equal((await app.inject({ method: 'GET', url: `/v1/kernels/${victim}` })).json().status, 'RUNNING', 'JSON.parse would have read running: false')
  })
})
