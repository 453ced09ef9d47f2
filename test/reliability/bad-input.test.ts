import { randomUUID } from 'node:crypto'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import fc from 'fast-check'
import t from 'tap'
import { AgentRegistration, KernelBulkUpsert, KernelUpsert, PresenceReport, SHARED_SCHEMAS, SweepRequest } from '../../src/http/schemas.js'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const REDIS_DB = 13
const KERNEL = '6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30'
const SESSION = '0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f'

// The routes that write, each with a valid body and the schema it is checked against.
const validKernel = { session_id: SESSION, scaling_group: 'default', agent_id: 'a1', status: 'RUNNING' }
const writers = [
  { method: 'POST', url: '/v1/scaling-groups/default/sweeps', schema: SweepRequest, valid: { dry_run: true, force: false } },
  { method: 'PUT', url: `/v1/kernels/${KERNEL}`, schema: KernelUpsert, valid: validKernel },
  { method: 'PUT', url: '/v1/kernels', schema: KernelBulkUpsert, valid: { kernels: [{ kernel_id: KERNEL, ...validKernel }] } },
  { method: 'PUT', url: '/v1/agents/a1', schema: AgentRegistration, valid: { address: 'http://127.0.0.1:9101', scaling_group: 'default' } },
  { method: 'POST', url: '/v1/agents/a1/presence', schema: PresenceReport, valid: { kernels: { [KERNEL]: true } } },
] as const

const nasty = [
  'de\u0000fault', '../../etc/passwd', "'; DROP TABLE kernels; --", '" OR "1"="1', 'ｋｅｒｎｅｌ', '🦄', '\u202Eevil',
  'x'.repeat(100_000), '', ' ', '%00', '{"$ne": null}', 'RUNNING\n', 'run ning', 'a/b',
]

t.test('bad input never writes and always answers a 4xx problem', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app, raw } = await testApp(t, REDIS_DB)
  const inject = (method: string, url: string, payload?: unknown) =>
    app.inject({ method: method as 'GET', url, ...(payload === undefined ? {} : { payload: payload as object }) })

  async function nothingWritten (): Promise<void> {
    const [counts] = await app.persistence.db.query<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM kernels) AS kernels, (SELECT count(*)::int FROM agents) AS agents,
              (SELECT count(*)::int FROM sweeps) AS sweeps, (SELECT count(*)::int FROM kernel_status_history) AS history`
    )
    t.same(counts, { kernels: 0, agents: 0, sweeps: 0, history: 0 }, 'nothing in the database')
    t.equal(await raw.dbsize(), 0, 'nothing in Valkey')
  }

  function isProblem (response: Awaited<ReturnType<typeof inject>>): boolean {
    return response.statusCode >= 400 && response.statusCode < 500 &&
      /^application\/problem\+json/.test(String(response.headers['content-type'])) &&
      response.json().status === response.statusCode
  }

  await t.test('nasty strings in every field and parameter', async (t) => {
    let requests = 0
    for (const value of nasty) {
      const encoded = encodeURIComponent(value)
      const cases: Array<[string, string, unknown]> = [
        ['POST', `/v1/scaling-groups/${encoded}/sweeps`, {}],
        ['PUT', `/v1/kernels/${encoded}`, validKernel],
        ['GET', `/v1/kernels/${encoded}`, undefined],
        ['GET', `/v1/sweeps/${encoded}`, undefined],
        ['PUT', `/v1/agents/${encoded}`, writers[3].valid],
        ['POST', `/v1/agents/${encoded}/presence`, writers[4].valid],
        ['GET', `/v1/kernels?scaling_group=${encoded}&status=${encoded}`, undefined],
        ['GET', `/v1/kernels?cursor=${encoded}`, undefined],
        ['GET', `/v1/sweeps?limit=${encoded}`, undefined],
        ...Object.keys(validKernel).map((field): [string, string, unknown] => ['PUT', `/v1/kernels/${KERNEL}`, { ...validKernel, [field]: value }]),
        ['PUT', '/v1/agents/a1', { address: value, scaling_group: 'default' }],
        ['POST', '/v1/agents/a1/presence', { kernels: { [value]: true } }],
      ]
      for (const [method, url, payload] of cases) {
        const response = await inject(method, url, payload)
        requests++
        // '' and ' ' as a path segment can route to a listing (GET /v1/kernels/), which is fine;
        // everything that writes or names a resource must be refused.
        if (response.statusCode === 200 && method === 'GET') continue
        if (!isProblem(response)) t.fail(`${method} ${url.slice(0, 80)} ${JSON.stringify(payload)?.slice(0, 80)} → ${response.statusCode}`)
      }
    }
    t.ok(requests > 200, `${requests} requests`)
    await nothingWritten()
  })

  await t.test('lists of 10,001 are refused whole', async (t) => {
    const kernels = Array.from({ length: 10_001 }, () => ({ kernel_id: randomUUID(), ...validKernel }))
    t.equal((await inject('PUT', '/v1/kernels', { kernels })).statusCode, 400)
    const presence = Object.fromEntries(kernels.map((k) => [k.kernel_id, true]))
    t.equal((await inject('POST', '/v1/agents/a1/presence', { kernels: presence })).statusCode, 400)
    await nothingWritten()
  })

  await t.test('1,000 requests from the complements of the route schemas (fast-check)', async (t) => {
    const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, strict: false })
    for (const schema of SHARED_SCHEMAS) ajv.addSchema(schema)
    addFormats.default(ajv)
    const validators = writers.map((writer) => ajv.compile(writer.schema))
    const value = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string(), fc.constantFrom(...nasty),
      fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }))
    // A mutation of a valid body: a field set to something else, a field added, a field removed,
    // or the whole body replaced. Only mutations that fall outside the schema are kept.
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), field: fc.string({ maxLength: 12 }), value }),
      fc.record({ kind: fc.constant('setKnown' as const), index: fc.nat(), value }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('replace' as const), value: fc.anything() })
    )
    let sent = 0
    await fc.assert(fc.asyncProperty(fc.nat({ max: writers.length - 1 }), mutation, async (which, change) => {
      const writer = writers[which]!
      const body: Record<string, unknown> = { ...writer.valid }
      const keys = Object.keys(body)
      let payload: unknown = body
      if (change.kind === 'set') body[change.field] = change.value
      if (change.kind === 'setKnown') body[keys[change.index % keys.length]!] = change.value
      if (change.kind === 'remove') delete body[keys[change.index % keys.length]!]
      if (change.kind === 'replace') payload = change.value
      fc.pre(!validators[which]!(payload))
      const response = await app.inject({
        method: writer.method,
        url: writer.url,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(payload) ?? 'undefined',
      })
      sent++
      return isProblem(response)
    }), { numRuns: 1_000, seed: 20261127 })
    t.ok(sent >= 1_000, `${sent} invalid requests, every one a 4xx problem`)
    await nothingWritten()
  })
})
