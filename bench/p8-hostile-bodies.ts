// P8 — hostile bodies: a flood of the worst bodies within the body limits (8 MiB on the bulk
// routes, 1 MiB elsewhere), from several connections at once, against the service in a process of
// its own, while a separate thread asks `/healthz` every 10 ms. Reports how long `/healthz` waited
// (the event loop held by the bodies), how long each body took to be answered, and, for each body,
// how long a bare `JSON.parse` of it takes: what the event loop was held for before the body limits.
import { randomUUID } from 'node:crypto'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client, Pool } from 'undici'
import { fmt, median, REDIS_URL, report, scratch, startService } from './support.js'

const FLOOD_SEC = Number(process.argv[2] ?? 10)
const CONNECTIONS = Number(process.argv[3] ?? 4)
const PROBE_EVERY_MS = 10
const MiB = 1024 * 1024

interface Probe { readonly url: string, readonly seconds: number }

/** The prober: in a thread of its own, so the bench's sending never delays a probe. */
async function runProbe ({ url, seconds }: Probe): Promise<void> {
  const client = new Client(url)
  const latencies: number[] = []
  const until = performance.now() + seconds * 1000
  while (performance.now() < until) {
    const started = performance.now()
    const { statusCode, body } = await client.request({ method: 'GET', path: '/healthz' })
    await body.text()
    if (statusCode !== 200) throw new Error(`/healthz answered ${statusCode}`)
    latencies.push(performance.now() - started)
    await sleep(PROBE_EVERY_MS)
  }
  await client.close()
  parentPort?.postMessage(latencies)
}

/** `/healthz` latencies, one probe every 10 ms for `seconds`. */
async function probe (url: string, seconds: number): Promise<number[]> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { url, seconds } satisfies Probe })
  const latencies = await new Promise<number[]>((resolve, reject) => { worker.once('message', resolve).once('error', reject) })
  await worker.terminate()
  return latencies
}

interface Hostile {
  readonly name: string
  readonly method: 'POST' | 'PUT'
  readonly path: string
  readonly body: string
}

let salt = 0
const unique = (length: number): string => (salt++).toString(36).padStart(length, 'k')
const times = <T> (n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i))
const kernel = (): Record<string, unknown> => ({
  kernel_id: randomUUID(), session_id: randomUUID(), scaling_group: 'p8', agent_id: 'p8-agent', status: 'RUNNING', expected_version: 1,
})

/** Each body as large as its route takes, shaped to cost the most: over the JSON limits, or just within them. */
function hostileBodies (): Hostile[] {
  const presence = '/v1/agents/p8-agent/presence'
  const fill = (limit: number, prefix: string, suffix: string, unit: string): string =>
    prefix + unit.repeat(Math.floor((limit - prefix.length - suffix.length - 64) / unit.length)) + suffix
  const depth = (limit: number, prefix: string, suffix: string): string => {
    const levels = Math.floor((limit - prefix.length - suffix.length - 64) / 2)
    return `${prefix}${'['.repeat(levels)}${']'.repeat(levels)}${suffix}`
  }
  // 10,000 good kernels and a bad last one: validation reads them all before it refuses.
  const bulk = times(10_000, kernel)
  return [
    { name: 'presence: 4M nested arrays (8 MiB)', method: 'POST', path: presence, body: depth(8 * MiB, '{"kernels":', '}') },
    { name: 'presence: 500k short keys (8 MiB)', method: 'POST', path: presence, body: `{"kernels":{${times(500_000, () => `"${unique(8)}":true`).join(',')}}}` },
    { name: 'presence: 11,998 keys of 128 bytes', method: 'POST', path: presence, body: `{"kernels":{${times(11_998, () => `"${unique(128)}":true`).join(',')}}}` },
    { name: 'presence: 2,399 objects of 5 new keys', method: 'POST', path: presence, body: `{"kernels":[${times(2_399, () => `{${times(5, () => `"${unique(128)}":1`).join(',')}}`).join(',')}]}` },
    { name: 'presence: one 8 MiB key', method: 'POST', path: presence, body: fill(8 * MiB, '{"kernels":{"', '":true}}', 'k') },
    { name: 'presence: 99,990 strings of 80 chars', method: 'POST', path: presence, body: `{"kernels":[${times(99_990, () => `"${'x'.repeat(80)}"`).join(',')}]}` },
    { name: 'presence: 8 MiB of escapes', method: 'POST', path: presence, body: fill(8 * MiB, '{"kernels":"', '"}', '\\n') },
    { name: 'reconcile: 99,990 ids', method: 'POST', path: '/v1/agents/p8-agent/reconcile', body: JSON.stringify({ kernels: times(99_990, () => randomUUID()) }) },
    { name: 'bulk: 10,000 kernels, the last bad', method: 'PUT', path: '/v1/kernels', body: JSON.stringify({ kernels: [...bulk.slice(0, -1), { ...bulk.at(-1), status: 'BAD' }] }) },
    { name: 'sweep: 500k nested arrays (1 MiB)', method: 'POST', path: '/v1/scaling-groups/p8/sweeps', body: depth(MiB, '{"dry_run":', '}') },
    { name: 'sweep: 1 MiB of escapes, a key twice', method: 'POST', path: '/v1/scaling-groups/p8/sweeps', body: fill(MiB, '{"dry_run":true,"dry_run":false,"x":"', '"}', '\\n') },
    { name: 'agent: 500k nested arrays (1 MiB)', method: 'PUT', path: '/v1/agents/p8-agent', body: depth(MiB, '{"address":', '}') },
  ]
}

/**
 * How long a bare `JSON.parse` of the body holds the event loop: what the old path did with it
 * before refusing it. The first parse, as an attacker's new keys always are.
 */
function bareParseMs (body: string): number {
  const started = performance.now()
  try { JSON.parse(body) } catch {}
  return performance.now() - started
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = values.toSorted((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

/** The service's own largest event-loop delay since the last read of /metrics (prom-client resets it). */
async function eventLoopLagMaxMs (url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text()
  return Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(metrics)?.[1] ?? NaN) * 1000
}

async function main (): Promise<void> {
  const hostiles = hostileBodies()
  const bare = new Map(hostiles.map((hostile) => [hostile.name, bareParseMs(hostile.body)]))
  const s = await scratch()
  const service = await startService({ DATABASE_URL: s.databaseUrl, VALKEY_URL: REDIS_URL })
  const pool = new Pool(service.url, { connections: CONNECTIONS })
  try {
    const quiet = await probe(service.url, 2)
    await eventLoopLagMaxMs(service.url)
    const answers = new Map(hostiles.map((hostile) => [hostile.name, { statuses: new Set<number>(), ms: [] as number[] }]))
    const payloads = hostiles.map((hostile) => ({ ...hostile, payload: Buffer.from(hostile.body) }))
    const flooding = probe(service.url, FLOOD_SEC)
    const until = performance.now() + FLOOD_SEC * 1000
    await Promise.all(times(CONNECTIONS, async (sender) => {
      for (let i = sender; performance.now() < until; i++) {
        const hostile = payloads[i % payloads.length]!
        const started = performance.now()
        const { statusCode, body } = await pool.request({
          method: hostile.method, path: hostile.path, headers: { 'content-type': 'application/json' }, body: hostile.payload,
        })
        await body.text()
        const answer = answers.get(hostile.name)!
        answer.statuses.add(statusCode)
        answer.ms.push(performance.now() - started)
      }
    }))
    const flood = await flooding
    const lagMax = await eventLoopLagMaxMs(service.url)
    report('P8 hostile bodies', {
      flood: `${FLOOD_SEC} s from ${CONNECTIONS} connections, ${[...answers.values()].reduce((n, a) => n + a.ms.length, 0)} bodies`,
      '/healthz quiet: p99, max': `${fmt(percentile(quiet, 0.99))}, ${fmt(Math.max(...quiet))}`,
      '/healthz in the flood: p50, p99, max': `${fmt(percentile(flood, 0.5))}, ${fmt(percentile(flood, 0.99))}, ${fmt(Math.max(...flood))} (${flood.length} probes)`,
      'service event-loop delay in the flood, max': fmt(lagMax),
      ...Object.fromEntries(hostiles.map((hostile) => {
        const { statuses, ms } = answers.get(hostile.name)!
        return [hostile.name, `${[...statuses].join('/')} in ${fmt(median(ms))} (max ${fmt(Math.max(...ms))}); bare JSON.parse ${fmt(bare.get(hostile.name)!)}`]
      })),
    })
  } finally {
    await pool.close()
    await service.stop()
    await s.drop()
  }
}

if (isMainThread) await main()
else await runProbe(workerData as Probe)
