import type { AgentId, KernelId } from '../domain/kernel-info.js'
import { classifyPresence, type KernelPresenceStatus } from '../domain/presence.js'
import type { ScheduleType } from '../domain/schedule-type.js'
import { type CheckedKernel, PresenceKeys, type PresenceReading, type PresenceRules, type PresenceStore } from './presence-store.js'

interface KernelRecord {
  presence: string | null
  lastPresence: string | null
  agentId: AgentId | null
  lastCheck: number | null
  expiresAt: number
}

export interface InProcessPresenceStoreOptions extends PresenceRules {
  /** Seconds since the epoch; the store's clock, like Valkey's TIME. */
  readonly clock?: () => number
}

const wallClock = (): number => Math.floor(Date.now() / 1000)

/**
 * Presence kept in process memory, for embedded mode, with the rules of the Valkey store: same
 * fields, same expiry, same reading. Expired records are dropped as they are met.
 */
export class InProcessPresenceStore implements PresenceStore {
  private readonly kernels = new Map<KernelId, KernelRecord>()
  private readonly agentLastChecks = new Map<AgentId, { at: number, expiresAt: number }>()
  private readonly schedules = new Set<string>()
  private readonly rules: PresenceRules
  private readonly clock: () => number
  private nextPurgeAt = 0

  constructor (options: InProcessPresenceStoreOptions) {
    this.rules = { stalenessSec: options.stalenessSec, ttlSec: options.ttlSec }
    this.clock = options.clock ?? wallClock
  }

  async checkKernelPresenceStatusBatch (
    kernels: readonly CheckedKernel[],
    agentIds: readonly AgentId[]
  ): Promise<ReadonlyMap<KernelId, KernelPresenceStatus | null>> {
    const now = this.clock()
    const statuses = new Map<KernelId, KernelPresenceStatus | null>()
    for (const kernel of kernels) {
      const record = this.live(kernel.id, now) ?? { presence: null, lastPresence: null, agentId: null, lastCheck: null, expiresAt: 0 }
      record.lastCheck = now
      record.expiresAt = now + this.rules.ttlSec
      this.kernels.set(kernel.id, record)
      statuses.set(kernel.id, classifyPresence(record, kernel.agentId, now, this.rules.stalenessSec))
    }
    for (const agentId of agentIds) {
      this.agentLastChecks.set(agentId, { at: now, expiresAt: now + PresenceKeys.AGENT_LAST_CHECK_TTL_SEC })
    }
    return statuses
  }

  async updateKernelPresenceBatch (agentId: AgentId, presence: ReadonlyMap<KernelId, boolean>): Promise<void> {
    const now = this.clock()
    this.purgeExpired(now)
    for (const [kernelId, running] of presence) {
      const record = this.live(kernelId, now)
      this.kernels.set(kernelId, {
        presence: running ? '1' : '0',
        lastPresence: String(now),
        agentId,
        lastCheck: record?.lastCheck ?? null,
        expiresAt: now + this.rules.ttlSec,
      })
    }
  }

  async getKernelPresence (kernelId: KernelId): Promise<PresenceReading> {
    const now = this.clock()
    const record = this.live(kernelId, now)
    // No kernel agent to compare with (see the port): the record is read whichever agent wrote it.
    const status = record === undefined ? null : classifyPresence(record, null, now, this.rules.stalenessSec)
    return status === null ? { presence: null, lastPresence: null } : { presence: status.presence, lastPresence: status.lastPresence }
  }

  async markSchedulesNeeded (types: readonly ScheduleType[]): Promise<void> {
    for (const type of types) this.schedules.add(PresenceKeys.schedule(type))
  }

  /** Whether a schedule mark is set (what Valkey's `GET schedule:{type}` shows). */
  isScheduleMarked (type: ScheduleType): boolean {
    return this.schedules.has(PresenceKeys.schedule(type))
  }

  /** When the sweep last checked this agent's kernels, or null (Valkey's `agent:last_check:{id}`). */
  agentLastCheck (agentId: AgentId): number | null {
    const entry = this.agentLastChecks.get(agentId)
    return entry === undefined || entry.expiresAt <= this.clock() ? null : entry.at
  }

  /** A kernel's stored fields, or undefined once expired (Valkey's `HGETALL kernel:presence:{id}`). */
  rawKernelRecord (kernelId: KernelId): Readonly<KernelRecord> | undefined {
    return this.live(kernelId, this.clock())
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    this.kernels.clear()
    this.agentLastChecks.clear()
    this.schedules.clear()
  }

  /** Now and then, drop records nobody reads any more (kernels gone for good), as expiry does in Valkey. */
  private purgeExpired (now: number): void {
    if (now < this.nextPurgeAt) return
    this.nextPurgeAt = now + this.rules.ttlSec
    for (const [kernelId, record] of this.kernels) if (record.expiresAt <= now) this.kernels.delete(kernelId)
    for (const [agentId, entry] of this.agentLastChecks) if (entry.expiresAt <= now) this.agentLastChecks.delete(agentId)
  }

  private live (kernelId: KernelId, now: number): KernelRecord | undefined {
    const record = this.kernels.get(kernelId)
    if (record !== undefined && record.expiresAt <= now) {
      this.kernels.delete(kernelId)
      return undefined
    }
    return record
  }
}
