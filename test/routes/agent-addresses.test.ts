import t from 'tap'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const register = (app: Awaited<ReturnType<typeof testApp>>['app'], agentId: string, address: string) =>
  app.inject({ method: 'PUT', url: `/v1/agents/${agentId}`, payload: { address, scaling_group: 'default' } })

t.test('agent addresses are parsed at registration: the origin is stored, anything else is 400 and nothing is written', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app } = await testApp(t, 'own')
  const refused: Array<[address: string, detail: RegExp]> = [
    ['http://sweeper:hunter2@127.0.0.1:9101', /user name or password/],
    ['http://evil.example\\@127.0.0.1:9', /without a path/],
    ['http://%zz', /not a URL/],
    ['http://a:99999', /not a URL/],
    ['http://127.0.0.1:0', /port/],
    ['http://169.254.169.254', /link-local/],
    ['http://[fe80::1]:9101', /link-local/],
    ['http://0.0.0.0:9101', /unspecified/],
  ]
  for (const [index, [address, detail]] of refused.entries()) {
    const response = await register(app, `bad-${index}`, address)
    t.equal(response.statusCode, 400, address)
    t.match(response.json(), { type: 'validation-error', detail })
    t.notMatch(response.body, /hunter2/, 'a password is never echoed')
    t.equal((await app.inject({ method: 'GET', url: `/v1/agents/bad-${index}` })).statusCode, 404, 'nothing written')
  }
  const stored = await register(app, 'good', 'http://127.0.0.1:80/')
  t.equal(stored.statusCode, 200)
  t.equal(stored.json().address, 'http://127.0.0.1', 'the origin, as the sweeper calls it')
  t.equal((await app.inject({ method: 'GET', url: '/v1/agents/good' })).json().address, 'http://127.0.0.1')
})

t.test('AGENT_ADDRESS_ALLOW: only IP addresses inside the blocks', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app } = await testApp(t, 'own', { AGENT_ADDRESS_ALLOW: '10.0.0.0/8, fd00::/8' })
  t.equal((await register(app, 'inside', 'http://10.1.2.3:9101')).statusCode, 200)
  t.equal((await register(app, 'inside6', 'http://[fd00::7]:9101')).statusCode, 200)
  for (const [agentId, address, detail] of [
    ['outside', 'http://192.168.1.10:9101', /outside AGENT_ADDRESS_ALLOW/],
    ['named', 'http://agent.internal:9101', /host name/],
    ['metadata', 'http://169.254.169.254', /link-local/],
  ] as const) {
    const response = await register(app, agentId, address)
    t.equal(response.statusCode, 400, address)
    t.match(response.json(), { type: 'validation-error', detail })
  }
})
