import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import pg from 'pg'

/** Shared setup for the benchmarks: real Postgres and Redis, as the tests use them. */
export const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379/15'

export interface Scratch {
  /** DATABASE_URL that works in a schema of its own. */
  readonly databaseUrl: string
  readonly schema: string
  readonly redis: Redis
  drop (): Promise<void>
}

/** A fresh schema and an emptied Redis database; `drop()` removes both. */
export async function scratch (): Promise<Scratch> {
  const schema = `ks_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const redis = new Redis(REDIS_URL)
  await redis.flushdb()
  return {
    schema,
    databaseUrl: `${DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    redis,
    drop: async () => {
      await redis.flushdb()
      redis.disconnect()
      const cleanup = new pg.Client({ connectionString: DATABASE_URL })
      await cleanup.connect()
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`)
      await cleanup.end()
    },
  }
}

export async function timed<T> (work: () => Promise<T>): Promise<{ ms: number, result: T }> {
  const started = performance.now()
  const result = await work()
  return { ms: performance.now() - started, result }
}

export function median (values: readonly number[]): number {
  const sorted = values.toSorted((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export interface ServiceProcess {
  readonly url: string
  readonly child: ChildProcess
  stop (): Promise<void>
}

/** The node flags `npm start` gives the service (package.json), so the service is measured as it is started. */
export const SERVICE_NODE_FLAGS: readonly string[] = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
  scripts: { start: string }
}).scripts.start.split(' ').filter((arg) => arg.startsWith('--'))

/**
 * The built service (`dist/src/server.js`) in a process of its own on a free port, as it is
 * deployed: resolves once `/readyz` answers 200. `env` adds to (and overrides) this process's own.
 * `BENCH_SERVICE_NODE_ARGS` (space-separated) go to the service's `node` after `npm start`'s own
 * flags: to try V8 flags, or attach diagnostics, without changing the benchmark's own process.
 */
export async function startService (env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort()
  const nodeArgs = process.env['BENCH_SERVICE_NODE_ARGS']?.split(' ').filter((arg) => arg !== '') ?? []
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...nodeArgs, new URL('../src/server.js', import.meta.url).pathname], {
    env: { ...process.env, SWEEP_INTERVAL_SEC: '0', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = once(child, 'exit')
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  const url = `http://127.0.0.1:${port}`
  const started = performance.now()
  while (!await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)) {
    if (child.exitCode !== null || performance.now() - started > 60_000) {
      await stop()
      throw new Error('the service did not become ready within 60 s')
    }
    await sleep(50)
  }
  return { url, child, stop }
}

/** A process's resident memory from /proc, in MB: now (`VmRSS`) and its peak (`VmHWM`). */
export async function rssOf (pid: number): Promise<{ rss: number, peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const mb = (field: string): number => Math.round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024)
  return { rss: mb('VmRSS'), peak: mb('VmHWM') }
}

/**
 * Measures the peak RSS of process `pid` while `work` runs: the kernel's own high-water mark,
 * reset first (`clear_refs` 5), so no spike between two samples is missed; sampled every few
 * milliseconds as well, for kernels that do not allow the reset.
 */
export async function peakRssDuring<T> (pid: number, work: () => Promise<T>): Promise<{ peakRss: number, result: T }> {
  const reset = await writeFile(`/proc/${pid}/clear_refs`, '5').then(() => true, () => false)
  let sampled = (await rssOf(pid)).rss
  const done = new AbortController()
  const sampler = (async () => {
    while (!done.signal.aborted) {
      sampled = Math.max(sampled, (await rssOf(pid)).rss)
      await sleep(5)
    }
  })()
  try {
    const result = await work()
    const { rss, peak } = await rssOf(pid)
    return { peakRss: Math.max(sampled, rss, reset ? peak : 0), result }
  } finally {
    done.abort()
    await sampler
  }
}

export const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`)

/** One line a benchmark prints, collected by bench/run.ts. */
export function report (name: string, fields: Record<string, string | number>): void {
  process.stdout.write(`${JSON.stringify({ bench: name, ...fields })}\n`)
}

export async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}
