import type { KernelInfo, KernelId } from './kernel-info.js'
import type { KernelStatus } from './kernel-status.js'

/** A kernel as stored: what the handler sees, plus the bookkeeping of its last status change. */
export interface KernelRecord extends KernelInfo {
  readonly statusInfo: string | null
  readonly statusChangedAt: Date
  readonly terminatedAt: Date | null
  readonly createdAt: Date
}

/** One row of a kernel's status history. Changes made by hand (`PUT`) have no sweep and no reason. */
export interface KernelStatusChange {
  readonly kernelId: KernelId
  readonly fromStatus: KernelStatus
  readonly toStatus: KernelStatus
  readonly reason: string | null
  readonly sweepId: string | null
  readonly changedAt: Date
}
