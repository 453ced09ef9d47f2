// P4 — presence ingestion: POST /v1/agents/{id}/presence with 1,000 kernels per request under
// autocannon, against the service in its own process (real Postgres for start-up, real Redis for
// the heartbeats); Fastify's bare hello world from the same run as context.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { freePort, REDIS_URL, report, scratch, SERVICE_NODE_FLAGS } from './support.js'

const DURATION_SEC = Number(process.argv[2] ?? 10)
const CONNECTIONS = 8
const BATCH = 1_000

async function start (args: string[], env: Record<string, string>, port: number, ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  for (let i = 0; i < 200; i++) {
    if (await fetch(`http://127.0.0.1:${port}${ready}`).then((r) => r.ok, () => false)) return child
    await sleep(50)
  }
  throw new Error(`${args.join(' ')} did not start`)
}

function run (url: string, options: Partial<autocannon.Options>): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: DURATION_SEC, ...options })
}

const s = await scratch()
const servicePort = await freePort()
const helloPort = await freePort()
const service = await start([...SERVICE_NODE_FLAGS, new URL('../src/server.js', import.meta.url).pathname], {
  DATABASE_URL: s.databaseUrl, VALKEY_URL: REDIS_URL, PORT: String(servicePort), SWEEP_INTERVAL_SEC: '0', LOG_LEVEL: 'warn',
}, servicePort, '/readyz')
const hello = await start([new URL('hello-server.js', import.meta.url).pathname, String(helloPort)], {}, helloPort, '/')
try {
  const body = JSON.stringify({ kernels: Object.fromEntries(Array.from({ length: BATCH }, (_, i) => [randomUUID(), i % 10 !== 0])) })
  const presence = await run(`http://127.0.0.1:${servicePort}/v1/agents/a1/presence`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body,
  })
  const baseline = await run(`http://127.0.0.1:${helloPort}/`, {})
  if (presence.non2xx > 0 || presence.errors > 0) throw new Error(`presence: ${presence.non2xx} non-2xx, ${presence.errors} errors`)
  const stored = await s.redis.dbsize()
  if (stored !== BATCH) throw new Error(`${stored} presence keys, expected ${BATCH}`)
  report('P4 presence ingestion', {
    'kernels per request': BATCH,
    connections: CONNECTIONS,
    duration: `${DURATION_SEC} s`,
    'requests/s': Math.round(presence.requests.average),
    'kernel updates/s': Math.round(presence.requests.average * BATCH),
    'latency p50 / p99': `${presence.latency.p50} / ${presence.latency.p99} ms`,
    'hello world requests/s': Math.round(baseline.requests.average),
  })
} finally {
  service.kill('SIGTERM')
  hello.kill('SIGTERM')
  await s.drop()
}
