import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { agentToken } from '../../src/domain/agent-token.js'
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

t.test('per-agent tokens (AGENT_TOKEN_SECRET): good for their own agent\'s routes only', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const secret = 'fleet-signing-secret'
  const { app, logs } = await testApp(t, REDIS_DB, { API_TOKEN: 'api-secret', AGENT_TOKEN_SECRET: secret })
  const as = (token: string) => ({ authorization: `Bearer ${token}` })
  const presence = { kernels: { [randomUUID()]: true } }
  const reconcile = { kernels: [] }
  const a1 = agentToken(secret, 'a1')
  t.match(a1, /^a1\.[A-Za-z0-9_-]{43}$/, 'A., then 32 bytes in unpadded base64url')
  for (const agent of ['a1', 'a2']) {
    const registered = await app.inject({ method: 'PUT', url: `/v1/agents/${agent}`, headers: as('api-secret'), payload: { address: 'http://127.0.0.1:9', scaling_group: 'default' } })
    t.equal(registered.statusCode, 200, `${agent} registered with the API token`)
  }

  t.equal((await app.inject({ method: 'POST', url: '/v1/agents/a1/presence', headers: as(a1), payload: presence })).statusCode, 204, 'its own presence')
  t.equal((await app.inject({ method: 'POST', url: '/v1/agents/a1/reconcile', headers: as(a1), payload: reconcile })).statusCode, 200, 'its own reconcile')
  for (const route of ['presence', 'reconcile']) {
    const response = await app.inject({ method: 'POST', url: `/v1/agents/a2/${route}`, headers: as(a1), payload: route === 'presence' ? presence : reconcile })
    t.equal(response.statusCode, 403, `another agent's ${route}`)
    t.match(response.json(), { type: 'forbidden', status: 403, detail: /agent a1/ })
  }
  for (const [method, url] of [['GET', '/v1/sweeps'], ['GET', '/v1/agents/a1'], ['POST', '/v1/scaling-groups/default/sweeps']] as const) {
    t.equal((await app.inject({ method, url, headers: as(a1), ...(method === 'POST' ? { payload: {} } : {}) })).statusCode, 401, `${method} ${url}: not an agent's route`)
  }

  const forged = [
    `a1.${'A'.repeat(43)}`, // right shape, wrong signature
    agentToken('another-secret', 'a1'), // signed with another secret
    `a1.${a1.split('.')[1]!.slice(0, 42)}`, // cut short
    'a1', `${a1}.`, `.${a1.split('.')[1]!}`, // no signature, an empty one, no agent
  ]
  for (const token of forged) {
    const response = await app.inject({ method: 'POST', url: '/v1/agents/a1/presence', headers: as(token), payload: presence })
    t.equal(response.statusCode, 401, `forged: ${token.slice(0, 12)}…`)
  }

  const dotted = agentToken(secret, 'node.7')
  t.equal((await app.inject({ method: 'POST', url: '/v1/agents/node.7/presence', headers: as(dotted), payload: presence })).statusCode, 204, 'an agent id with a dot')
  t.equal((await app.inject({ method: 'POST', url: '/v1/agents/node/presence', headers: as(dotted), payload: presence })).statusCode, 403, 'split at the last dot')
  t.equal((await app.inject({ method: 'POST', url: '/v1/agents/a2/presence', headers: as('api-secret'), payload: presence })).statusCode, 204, 'the API token still speaks for any agent')
  t.notOk(logs.some((entry) => /AGENT_TOKEN is set/.test(String(entry['msg']))), 'no shared-token warning without AGENT_TOKEN')
})

t.test('the shared AGENT_TOKEN is still accepted for every agent, with a warning at start', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app, logs } = await testApp(t, REDIS_DB, { API_TOKEN: 'api-secret', AGENT_TOKEN: 'shared', AGENT_TOKEN_SECRET: 'fleet' })
  for (const agent of ['a1', 'a2']) {
    const response = await app.inject({ method: 'POST', url: `/v1/agents/${agent}/presence`, headers: { authorization: 'Bearer shared' }, payload: { kernels: { [randomUUID()]: true } } })
    t.equal(response.statusCode, 204, agent)
  }
  t.ok(logs.some((entry) => entry['level'] === 40 && /AGENT_TOKEN is set: whoever holds it can report presence for every agent/.test(String(entry['msg']))))
})

t.test('the Authorization header is parsed strictly: the token is all of it after "Bearer "', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app } = await testApp(t, REDIS_DB, { API_TOKEN: 'api-secret' })
  const status = async (authorization: string): Promise<number> =>
    (await app.inject({ method: 'GET', url: '/v1/sweeps', headers: { authorization } })).statusCode
  t.equal(await status('Bearer api-secret'), 200)
  t.equal(await status('bearer api-secret'), 200, 'the scheme is case-insensitive')
  t.equal(await status('BEARER api-secret'), 200)
  t.equal(await status('Bearer api-secret extra'), 401, 'a token followed by more')
  t.equal(await status('Bearer  api-secret'), 401, 'two spaces')
  t.equal(await status('Bearer\tapi-secret'), 401, 'a tab')
  t.equal(await status('Bearer'), 401, 'no token')
  t.equal(await status('Bearer '), 401, 'an empty token')
  t.equal(await status('Bearerapi-secret'), 401, 'no space')
})

t.test('kernel-sweeper agent-token A prints A\'s token; without the secret or an agent it is a usage error', async (t) => {
  const command = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
  const run = (args: string[], env: Record<string, string>) => new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve) => {
    execFile(process.execPath, [command, 'agent-token', ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error.code as number | null), stdout, stderr })
    })
  })
  t.same(await run(['node.7'], { AGENT_TOKEN_SECRET: 'fleet' }), { code: 0, stdout: `${agentToken('fleet', 'node.7')}\n`, stderr: '' })
  t.match(await run([], { AGENT_TOKEN_SECRET: 'fleet' }), { code: 2, stdout: '', stderr: /usage/ })
  t.match(await run(['a/b'], { AGENT_TOKEN_SECRET: 'fleet' }), { code: 2, stderr: /usage/ })
  t.match(await run(['a1'], {}), { code: 2, stdout: '', stderr: /AGENT_TOKEN_SECRET is not set/ })
  t.match(await run(['a1'], { AGENT_TOKEN_SECRET: ' ' }), { code: 2, stderr: /AGENT_TOKEN_SECRET/ })
})
