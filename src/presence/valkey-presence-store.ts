import type { Redis } from 'ioredis'
import type { AgentId, KernelId } from '../domain/kernel-info.js'
import { classifyPresence, type KernelPresenceStatus } from '../domain/presence.js'
import type { ScheduleType } from '../domain/schedule-type.js'
import type { Logger } from '../logger.js'
import {
  type CheckedKernel, PresenceKeys, type PresenceReading, type PresenceRules, type PresenceStore, PresenceUnavailableError,
} from './presence-store.js'
import { connectValkey, describeValkey, peerOf, type ValkeyTarget } from './valkey-connection.js'
import { CHECK_PRESENCE_LUA, UPDATE_PRESENCE_LUA } from './valkey-scripts.js'

export type ValkeyPresenceStoreOptions = ValkeyTarget & PresenceRules & {
  readonly connectTimeoutMs?: number
  /** Bound on one command, so a hung server answers with an error, not a hang. */
  readonly commandTimeoutMs?: number
  /** Told once when the connection is lost and once when it is back. */
  readonly logger?: Pick<Logger, 'info' | 'warn'>
}

// Keys per script call. Each call is sent as soon as it is encoded, without waiting for the one
// before (still one pipelined round trip on the connection): the server works on the first while
// the next is encoded, and no call holds it for more than a few milliseconds. Measured on 100,000
// kernels: 1,000-key calls take ~320 ms, one pipeline of 10,000-key calls ~500 ms.
const CHECK_CHUNK = 1_000
// The check's reply holds presence, last_presence and agent_id for each kernel, after the time.
const FIELDS_PER_KERNEL = 3
type RedisWithScripts = Redis & {
  checkPresence (numberOfKeys: number, ...args: Array<string | number>): Promise<Array<string | null>>
  updatePresence (numberOfKeys: number, ...args: Array<string | number>): Promise<number>
}

/** Presence in Valkey/Redis, in Backend.AI's key layout. */
export class ValkeyPresenceStore implements PresenceStore {
  private readonly redis: RedisWithScripts
  private readonly rules: PresenceRules
  private readonly target: ValkeyTarget
  /** The server the connection reached last (through Sentinel, the master in use); null before the first. */
  private server: string | null = null
  /** The connection's last error, which says more than a refused command does ("Stream isn't writeable"). */
  private connectionError: Error | null = null
  /** Lost or recovered is said once each, and only of a connection that was up: the start speaks for its first. */
  private connection: 'connecting' | 'up' | 'lost' | 'closing' = 'connecting'

  constructor (options: ValkeyPresenceStoreOptions) {
    this.rules = { stalenessSec: options.stalenessSec, ttlSec: options.ttlSec }
    this.target = 'url' in options ? { url: options.url } : { sentinel: options.sentinel }
    this.redis = connectValkey(this.target, {
      connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 5_000,
    }) as RedisWithScripts
    // Reported through the failing calls, and once when the connection goes; a line per attempt would flood.
    this.redis.on('error', (error: Error) => { this.connectionError = error })
    this.redis.on('ready', () => {
      this.connectionError = null
      this.server = peerOf(this.redis)
      const recovered = this.connection === 'lost'
      if (this.connection !== 'closing') this.connection = 'up'
      if (recovered) options.logger?.info({ location: this.location() }, 'presence store recovered')
    })
    this.redis.on('close', () => {
      // A server that goes away closes the stream with no error; the refusals come with the reconnects.
      this.connectionError ??= new Error('connection closed')
      if (this.connection !== 'up') return
      options.logger?.warn({ location: this.location(), err: this.connectionError.message }, 'presence store lost: presence reads and writes answer 503 until it is back')
      this.connection = 'lost'
    })
    this.redis.defineCommand('checkPresence', { lua: CHECK_PRESENCE_LUA })
    this.redis.defineCommand('updatePresence', { lua: UPDATE_PRESENCE_LUA })
  }

  /** Resolves once connected, or after `timeoutMs` regardless: a store that is down must not block start-up. */
  async waitUntilReady (timeoutMs = 2_000): Promise<boolean> {
    if (this.redis.status === 'ready') return true
    return new Promise((resolve) => {
      const done = (ready: boolean): void => {
        clearTimeout(timer)
        this.redis.off('ready', onReady)
        resolve(ready)
      }
      const onReady = (): void => { done(true) }
      const timer = setTimeout(() => { done(false) }, timeoutMs)
      this.redis.once('ready', onReady)
    })
  }

  async checkKernelPresenceStatusBatch (
    kernels: readonly CheckedKernel[],
    agentIds: readonly AgentId[]
  ): Promise<ReadonlyMap<KernelId, KernelPresenceStatus | null>> {
    const statuses = new Map<KernelId, KernelPresenceStatus | null>()
    if (kernels.length === 0) return statuses
    const calls: Array<Promise<Array<string | null>>> = []
    for (let start = 0; start < kernels.length; start += CHECK_CHUNK) {
      const chunk = kernels.slice(start, start + CHECK_CHUNK)
      const agentKeys = start === 0 ? agentIds.map(PresenceKeys.agentLastCheck) : []
      calls.push(this.redis.checkPresence(
        chunk.length + agentKeys.length,
        ...chunk.map((kernel) => PresenceKeys.kernel(kernel.id)), ...agentKeys,
        chunk.length, this.rules.ttlSec, PresenceKeys.AGENT_LAST_CHECK_TTL_SEC
      ))
    }
    const replies = await this.run(() => Promise.all(calls))
    replies.forEach((fields, index) => {
      const now = Number(fields[0])
      const start = index * CHECK_CHUNK
      for (let i = 0; start + i < kernels.length && i < CHECK_CHUNK; i++) {
        const kernel = kernels[start + i]!
        const at = 1 + FIELDS_PER_KERNEL * i
        const raw = { presence: fields[at] ?? null, lastPresence: fields[at + 1] ?? null, agentId: fields[at + 2] ?? null }
        statuses.set(kernel.id, classifyPresence(raw, kernel.agentId, now, this.rules.stalenessSec))
      }
    })
    return statuses
  }

  async updateKernelPresenceBatch (agentId: AgentId, presence: ReadonlyMap<KernelId, boolean>): Promise<void> {
    if (presence.size === 0) return
    const keys = [...presence.keys()].map(PresenceKeys.kernel)
    const flags = [...presence.values()].map((running) => (running ? '1' : '0')).join('')
    await this.run(() => this.redis.updatePresence(keys.length, ...keys, this.rules.ttlSec, flags, agentId))
  }

  async getKernelPresence (kernelId: KernelId): Promise<PresenceReading> {
    const replies = await this.run(() => this.redis.pipeline()
      .time()
      .hmget(PresenceKeys.kernel(kernelId), 'presence', 'last_presence', 'agent_id')
      .exec())
    const [timeError, time] = replies?.[0] ?? [new Error('no reply')]
    if (timeError !== null && timeError !== undefined) throw this.unavailable(timeError)
    const [fieldsError, fields] = replies?.[1] ?? [new Error('no reply')]
    // A key of another type answers WRONGTYPE: that is a bad record, read as "no record".
    if (fieldsError !== null && fieldsError !== undefined) {
      if (/WRONGTYPE/.test(fieldsError.message)) return { presence: null, lastPresence: null }
      throw this.unavailable(fieldsError)
    }
    const [presence, lastPresence, agentId] = fields as [string | null, string | null, string | null]
    // No kernel agent to compare with (see the port): the record is read whichever agent wrote it.
    const status = classifyPresence({ presence, lastPresence, agentId }, null, Number((time as [string, string])[0]), this.rules.stalenessSec)
    return status === null
      ? { presence: null, lastPresence: null }
      : { presence: status.presence, lastPresence: status.lastPresence }
  }

  async markSchedulesNeeded (types: readonly ScheduleType[]): Promise<void> {
    if (types.length === 0) return
    const pipeline = this.redis.pipeline()
    for (const type of types) pipeline.set(PresenceKeys.schedule(type), '1')
    const replies = await this.run(() => pipeline.exec())
    const failed = replies?.find(([error]) => error !== null && error !== undefined)
    if (failed !== undefined) throw this.unavailable(failed[0])
  }

  async ping (): Promise<void> {
    await this.run(() => this.redis.ping())
  }

  /** Where presence is (through Sentinel: the master in use), never with credentials. */
  location (): string {
    return describeValkey(this.target, this.connection === 'up' ? this.server : null)
  }

  async close (): Promise<void> {
    this.connection = 'closing'
    this.redis.disconnect()
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch (error) {
      throw this.unavailable(error)
    }
  }

  /** A failed command's error; while disconnected, in the words of the connection's own error. */
  private unavailable (error: unknown): PresenceUnavailableError {
    const cause = (this.redis.status === 'ready' ? null : this.connectionError) ?? error
    return new PresenceUnavailableError(`presence store unavailable: ${(cause as Error).message}`, { cause })
  }
}
