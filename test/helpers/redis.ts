import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

  /** `args`: more `redis-server` arguments, given at every start (e.g. `--replicaof`). */
  private constructor (readonly port: number, private readonly args: readonly string[]) {}

  static async start (t: Test, args: readonly string[] = []): Promise<OwnRedisServer> {
    const server = await OwnRedisServer.reserve(t, args)
    await server.start()
    return server
  }

  /** A server on a free port that is not started yet (a store that comes up later); stopped at teardown. */
  static async reserve (t: Test, args: readonly string[] = []): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort(), args)
    t.teardown(() => server.stop())
    return server
  }

  private get dumpFile (): string {
    return `kernel-sweeper-redis-${this.port}.rdb`
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}/0`
  }

  async start (): Promise<void> {
    this.process = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning',
      // A replica's full sync writes the master's data to disk: in the temporary folder, not the checkout.
      '--dir', tmpdir(), '--dbfilename', this.dumpFile, ...this.args,
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
    await rm(join(tmpdir(), this.dumpFile), { force: true })
  }

  /** SIGSTOP: the server keeps its sockets open but answers nothing, like a hung host. */
  freeze (): void { this.process?.kill('SIGSTOP') }
  thaw (): void { this.process?.kill('SIGCONT') }
}
