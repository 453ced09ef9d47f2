import { randomUUID } from 'node:crypto'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const REDIS_DB = 6

t.test('bearer tokens', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app } = await testApp(t, REDIS_DB, { API_TOKEN: 'api-secret', AGENT_TOKEN: 'agent-secret' })
  const presence = { kernels: { [randomUUID()]: true } }
  const as = (token?: string) => (token === undefined ? {} : { authorization: `Bearer ${token}` })

  for (const url of ['/v1/sweeps', `/v1/kernels/${randomUUID()}`, '/v1/agents/a1']) {
    const response = await app.inject({ method: 'GET', url })
    t.equal(response.statusCode, 401, `${url} without a token`)
    t.equal(response.headers['www-authenticate'], 'Bearer')
    t.match(response.json(), { type: 'unauthorized' })
  }
  t.equal((await app.inject({ method: 'GET', url: '/v1/sweeps', headers: as('api-secreT') })).statusCode, 401, 'wrong token')
  t.equal((await app.inject({ method: 'GET', url: '/v1/sweeps', headers: { authorization: 'Basic api-secret' } })).statusCode, 401, 'wrong scheme')
  t.equal((await app.inject({ method: 'GET', url: '/v1/sweeps', headers: as('agent-secret') })).statusCode, 401, 'the agent token is for heartbeats only')
  t.equal((await app.inject({ method: 'GET', url: '/v1/sweeps', headers: as('api-secret') })).statusCode, 200)

  const sweep = await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: { dry_run: true } })
  t.equal(sweep.statusCode, 401, 'no sweep without a token')
  t.same((await app.inject({ method: 'GET', url: '/v1/sweeps', headers: as('api-secret') })).json(), { items: [] })

  for (const token of ['agent-secret', 'api-secret']) {
    const response = await app.inject({ method: 'POST', url: '/v1/agents/a1/presence', headers: as(token), payload: presence })
    t.equal(response.statusCode, 204, `presence with the ${token.split('-')[0]} token`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/v1/agents/a1/presence', payload: presence })).statusCode, 401)

  for (const url of ['/healthz', '/readyz', '/metrics', '/docs/json']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} is open`)
  }
})

t.test('without API_TOKEN the API is open and a warning says so', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app, logs } = await testApp(t, REDIS_DB)
  t.equal((await app.inject({ method: 'GET', url: '/v1/sweeps' })).statusCode, 200)
  t.ok(logs.some((entry) => entry['level'] === 40 && /API_TOKEN is not set/.test(String(entry['msg']))))
})
