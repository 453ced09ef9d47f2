import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
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

/** Samples this process's RSS every few milliseconds; `stop()` returns the peak in MB. */
export function rssSampler (): { stop (): number } {
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 5)
  return {
    stop: () => {
      clearInterval(timer)
      return Math.round(Math.max(peak, process.memoryUsage().rss) / 1_048_576)
    },
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
