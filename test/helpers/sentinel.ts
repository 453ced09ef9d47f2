import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { freePort, OwnRedisServer } from './redis.js'

export const MASTER_NAME = 'mymaster'

/**
 * Valkey behind Sentinel on private loopback ports, started for one test and stopped at its
 * teardown: a master, a replica, and three sentinels (quorum 2) that call the master down after
 * `downAfterMs` without an answer and promote the replica.
 */
export class SentinelCluster {
  private constructor (
    readonly nodes: readonly [OwnRedisServer, OwnRedisServer],
    readonly sentinelPorts: readonly number[]
  ) {}

  static async start (t: Test, downAfterMs = 1_000): Promise<SentinelCluster> {
    const master = await OwnRedisServer.start(t)
    const replica = await OwnRedisServer.start(t, ['--replicaof', '127.0.0.1', String(master.port)])
    const dir = await mkdtemp(join(tmpdir(), 'kernel-sweeper-sentinels-'))
    const processes: ChildProcess[] = []
    t.teardown(async () => {
      await Promise.all(processes.map(async (sentinel) => {
        if (sentinel.exitCode !== null) return
        sentinel.kill('SIGKILL')
        await once(sentinel, 'exit')
      }))
      await rm(dir, { recursive: true, force: true })
    })
    const ports: number[] = []
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      const file = join(dir, `sentinel-${port}.conf`)
      // A sentinel rewrites its own file, so each has one it may write.
      await writeFile(file, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${downAfterMs}`,
        `sentinel failover-timeout ${MASTER_NAME} ${Math.max(3 * downAfterMs, 3_000)}`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
      ].join('\n') + '\n')
      processes.push(spawn('redis-server', [file, '--sentinel', '--loglevel', 'warning'], { stdio: 'ignore' }))
      ports.push(port)
    }
    const cluster = new SentinelCluster([master, replica], ports)
    await cluster.untilSettled(master.port)
    return cluster
  }

  /** `VALKEY_SENTINELS` for these sentinels. */
  get sentinels (): string {
    return this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',')
  }

  nodeOn (port: number): OwnRedisServer {
    const node = this.nodes.find((candidate) => candidate.port === port)
    if (node === undefined) throw new Error(`no node on ${port}`)
    return node
  }

  /** What `SENTINEL MASTER` says, as a map, from the sentinel at `port`. */
  async masterInfo (port = this.sentinelPorts[0]!): Promise<Map<string, string>> {
    return this.withSentinel(port, async (sentinel) => {
      const fields = await sentinel.call('SENTINEL', 'MASTER', MASTER_NAME) as string[]
      const info = new Map<string, string>()
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i]!, fields[i + 1]!)
      return info
    })
  }

  /** The port every sentinel gives as the master's. */
  async masterPort (): Promise<number | null> {
    const ports = await Promise.all(this.sentinelPorts.map((port) => this.withSentinel(port, async (sentinel) => {
      const address = await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME) as [string, string] | null
      return address === null ? null : Number(address[1])
    })))
    return ports.every((port) => port === ports[0]) ? ports[0] ?? null : null
  }

  /** Until every sentinel names `masterPort` as the master, knows the other two and a replica that is up. */
  async untilSettled (masterPort: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const settled = await this.masterPort().then(async (port) => {
        if (port !== masterPort) return false
        const infos = await Promise.all(this.sentinelPorts.map((sentinel) => this.masterInfo(sentinel)))
        return infos.every((info) => info.get('num-other-sentinels') === '2' && info.get('num-slaves') === '1' && !/s_down|o_down|failover/.test(info.get('flags') ?? ''))
      }, () => false)
      if (settled) return
      if (Date.now() > deadline) throw new Error(`sentinels did not settle on 127.0.0.1:${masterPort} within ${timeoutMs} ms`)
      await sleep(100)
    }
  }

  /** `SENTINEL FAILOVER`: a planned switch, the master demoted while it is up. */
  async failover (): Promise<void> {
    await this.withSentinel(this.sentinelPorts[0]!, (sentinel) => sentinel.call('SENTINEL', 'FAILOVER', MASTER_NAME))
  }

  private async withSentinel<T>(port: number, work: (sentinel: Redis) => Promise<T>): Promise<T> {
    const sentinel = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    sentinel.on('error', () => {})
    try {
      await sentinel.connect()
      return await work(sentinel)
    } finally {
      sentinel.disconnect()
    }
  }
}
