import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { request } from 'undici'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { PROBLEM_MEDIA_TYPE } from '../../src/http/problem.js'

/*
 * Issue 15, item 3: bodies within the byte limits (8 MiB on the bulk routes, 1 MiB elsewhere) but
 * shaped to make `JSON.parse` slow are refused with 413 as they stream in, on every route.
 */

const MiB = 1024 * 1024
const nested = (bytes: number, prefix: string, suffix: string): string => {
  const levels = Math.floor((bytes - prefix.length - suffix.length - 16) / 2)
  return `${prefix}${'['.repeat(levels)}${']'.repeat(levels)}${suffix}`
}

t.test('bodies over the JSON limits are 413 on every route that takes one; the contract\'s largest pass', async (t) => {
  const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0' }), { logger: false })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const send = async (method: 'POST' | 'PUT', path: string, body: string, contentType = 'application/json') => {
    const response = await request(`${base}${path}`, { method, headers: { 'content-type': contentType }, body })
    return { status: response.statusCode, type: String(response.headers['content-type']), body: await response.body.json() as Record<string, unknown> }
  }

  const cases: Array<[string, 'POST' | 'PUT', string, string, RegExp]> = [
    ['8 MiB of nested arrays, heartbeats', 'POST', '/v1/agents/a1/presence', nested(8 * MiB, '{"kernels":', '}'), /more than 32 deep/],
    ['8 MiB of nested arrays, bulk kernels', 'PUT', '/v1/kernels', nested(8 * MiB, '{"kernels":', '}'), /more than 32 deep/],
    ['8 MiB of nested arrays, reconciliation', 'POST', '/v1/agents/a1/reconcile', nested(8 * MiB, '{"kernels":', '}'), /more than 32 deep/],
    ['1 MiB of nested arrays, a sweep (strict JSON)', 'POST', '/v1/scaling-groups/default/sweeps', nested(MiB, '{"dry_run":', '}'), /more than 32 deep/],
    ['1 MiB of nested arrays, a decommissioning (strict JSON)', 'POST', '/v1/agents/a1/decommission', nested(MiB, '{"dry_run":', '}'), /more than 32 deep/],
    ['1 MiB of nested arrays, an agent', 'PUT', '/v1/agents/a1', nested(MiB, '{"address":', '}'), /more than 32 deep/],
    ['1 MiB of nested arrays, a kernel', 'PUT', `/v1/kernels/${randomUUID()}`, nested(MiB, '{"status":', '}'), /more than 32 deep/],
    ['20,000 kernels in a heartbeat', 'POST', '/v1/agents/a1/presence',
      JSON.stringify({ kernels: Object.fromEntries(Array.from({ length: 20_000 }, () => [randomUUID(), true])) }), /more than 12000 distinct keys/],
    ['200,000 ids to reconcile', 'POST', '/v1/agents/a1/reconcile', `{"kernels":[${'"x",'.repeat(200_000)}"x"]}`, /more than 100000 values/],
    ['one 4 MiB key', 'POST', '/v1/agents/a1/presence', `{"kernels":{"${'k'.repeat(4 * MiB)}":true}}`, /a key longer than 128 bytes/],
  ]
  for (const [name, method, path, body, detail] of cases) {
    const answer = await send(method, path, body)
    t.equal(answer.status, 413, name)
    t.match(answer.type, PROBLEM_MEDIA_TYPE, `${name}: problem details`)
    t.match(answer.body, { type: 'body-too-large', status: 413, detail }, `${name}: the problem says which limit`)
  }

  const heartbeats = JSON.stringify({ kernels: Object.fromEntries(Array.from({ length: 10_000 }, () => [randomUUID(), true])) })
  t.equal((await request(`${base}/v1/agents/a1/presence`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: heartbeats })).statusCode,
    204, 'heartbeats for 10,000 kernels, the contract\'s most, are written')
  const tooMany = JSON.stringify({ kernels: Object.fromEntries(Array.from({ length: 10_001 }, () => [randomUUID(), true])) })
  t.match(await send('POST', '/v1/agents/a1/presence', tooMany), { status: 400, body: { type: 'validation-error', detail: /body\/kernels/ } },
    'one over the contract is still validation\'s 400, naming the field')
  t.match(await send('POST', '/v1/agents/a1/presence', nested(MiB, '', ''), 'text/plain'), { status: 415 }, 'a body of another type is 415, unread')
  t.match(await send('POST', '/v1/no-such-route', nested(MiB, '', '')), { status: 413 }, 'an unknown route parses no deeper')
  // Fastify answers a Content-Length over the byte limit at once, unread, while the check may
  // already have refused what arrived of it: the service goes on.
  t.match(await send('POST', '/v1/agents/a1/presence', nested(9 * MiB, '{"kernels":', '}')), { status: 413, body: { type: 'body-too-large' } }, '9 MiB is over the byte limit')
  t.equal((await request(`${base}/healthz`)).statusCode, 200, 'and the service still answers')
})
