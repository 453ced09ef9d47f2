import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { skipUnlessAvailable } from './services.js'

let missing: Promise<string | null> | undefined

/** Tests run redis-servers of their own: what they need is the program, not a server someone runs. */
function whyMissing (): Promise<string | null> {
  missing ??= Promise.resolve().then(() => {
    const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
    return version.status === 0 ? null : `redis-server cannot be run: ${version.error?.message ?? version.stderr}`
  })
  return missing
}

/** For `t.test(name, { skip }, …)`; see `skipUnlessAvailable`. */
export function skipWithoutRedis (): Promise<string | false> {
  return skipUnlessAvailable(whyMissing())
}

/**
 * A Redis database for one test, on a redis-server of the test's own, started for it and stopped
 * at its teardown: a test never reads, writes or flushes data it did not create (a developer's
 * Redis at 6379 is somebody's data). `db` is the database number in the URL, as the service is
 * configured in production (Backend.AI uses 2).
 */
export async function testRedisDb (t: Test, db: number): Promise<{ url: string, raw: Redis }> {
  const server = await OwnRedisServer.start(t)
  const url = `redis://127.0.0.1:${server.port}/${db}`
  const raw = new Redis(url)
  t.teardown(() => { raw.disconnect() })
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
