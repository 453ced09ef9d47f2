import { PassThrough } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp, type BuildAppOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { testDatabase } from './postgres.js'
import { testRedisDb } from './redis.js'

export interface TestApp {
  readonly app: FastifyInstance
  /** Every log line the app wrote, parsed. */
  readonly logs: Array<Record<string, unknown>>
  readonly raw: import('ioredis').Redis
  readonly databaseUrl: string
  readonly valkeyUrl: string
}

/**
 * The service on real Postgres (a database of its own) and real Redis (a redis-server of the test's
 * own; database `redisDb` in its URL, 0 for `'own'`), background sweeps off unless `env` turns
 * them on. Closed at teardown.
 */
export async function testApp (t: Test, redisDb: number | 'own', env: Record<string, string> = {}, options: BuildAppOptions = {}): Promise<TestApp> {
  const schema = await testDatabase(t)
  const { url: valkeyUrl, raw } = await testRedisDb(t, redisDb === 'own' ? 0 : redisDb)
  const databaseUrl = `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`
  return openTestApp(t, { DATABASE_URL: databaseUrl, VALKEY_URL: valkeyUrl, ...env }, options, { raw, databaseUrl, valkeyUrl })
}

/** Another instance of the service on the same stores as `first`. */
export async function secondInstance (t: Test, first: TestApp, env: Record<string, string> = {}): Promise<TestApp> {
  return openTestApp(t, { DATABASE_URL: first.databaseUrl, VALKEY_URL: first.valkeyUrl, ...env }, {}, first)
}

async function openTestApp (
  t: Test,
  env: Record<string, string>,
  options: BuildAppOptions,
  stores: Pick<TestApp, 'raw' | 'databaseUrl' | 'valkeyUrl'>
): Promise<TestApp> {
  const logs: Array<Record<string, unknown>> = []
  const logStream = new PassThrough()
  logStream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
  })
  const config = loadConfig({ SWEEP_INTERVAL_SEC: '0', LOG_LEVEL: 'debug', ...env })
  const app = await buildApp(config, { logStream, ...options })
  t.teardown(() => app.close())
  await app.ready()
  return { app, logs, raw: stores.raw, databaseUrl: stores.databaseUrl, valkeyUrl: stores.valkeyUrl }
}
