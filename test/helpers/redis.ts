import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { skipUnlessAvailable } from './services.js'

/** The shared server CI and the dev machines run. */
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379'

let reachable: Promise<string | null> | undefined

function whyUnreachable (): Promise<string | null> {
  reachable ??= (async () => {
    const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      return null
    } catch (error) {
      return `Redis at ${TEST_REDIS_URL} does not answer: ${(error as Error).message}`
    } finally {
      client.disconnect()
    }
  })()
  return reachable
}

/** For `t.test(name, { skip }, …)`; see `skipUnlessAvailable`. */
export function skipWithoutRedis (): Promise<string | false> {
  return skipUnlessAvailable(whyUnreachable())
}

/**
 * A database number of the shared server for one test file, flushed before use and at teardown.
 * Each file that uses Redis names its own number (1–15), so files can run in parallel.
 */
export async function testRedisDb (t: Test, db: number): Promise<{ url: string, raw: Redis }> {
  const url = `${TEST_REDIS_URL}/${db}`
  const raw = new Redis(url)
  await raw.flushdb()
  t.teardown(async () => {
    await raw.flushdb()
    raw.disconnect()
  })
  return { url, raw }
}

export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** A redis-server of the test's own, on its own port, that the test can stop, freeze and restart. */
export class OwnRedisServer {
  private process: ChildProcess | undefined

  private constructor (readonly port: number) {}

  static async start (t: Test): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort())
    t.teardown(() => server.stop())
    await server.start()
    return server
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}/0`
  }

  async start (): Promise<void> {
    this.process = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning',
    ], { stdio: 'ignore' })
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    probe.on('error', () => {})
    for (let i = 0; i < 50; i++) {
      if (await probe.connect().then(() => true, () => false)) break
      await sleep(50)
    }
    probe.disconnect()
  }

  async stop (): Promise<void> {
    const running = this.process
    this.process = undefined
    if (running === undefined || running.exitCode !== null) return
    running.kill('SIGKILL')
    await once(running, 'exit')
  }

  /** SIGSTOP: the server keeps its sockets open but answers nothing, like a hung host. */
  freeze (): void { this.process?.kill('SIGSTOP') }
  thaw (): void { this.process?.kill('SIGCONT') }
}
