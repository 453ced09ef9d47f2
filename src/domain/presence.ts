/** Heartbeat presence of a kernel as read from the presence store (contract §1, §4). */
export const HealthCheckStatus = {
  ALIVE: 'ALIVE',
  UNHEALTHY: 'UNHEALTHY',
  STALE: 'STALE',
} as const

export type HealthCheckStatus = typeof HealthCheckStatus[keyof typeof HealthCheckStatus]

export interface KernelPresenceStatus {
  readonly presence: HealthCheckStatus
  /** Seconds since the epoch, on the presence store's clock, of the last heartbeat. */
  readonly lastPresence: number
}

/**
 * A kernel whose presence cannot vouch for it. "No record" (`null`) is suspect too: a kernel the
 * agent never reported, or whose key expired, must be confirmed by its agent rather than trusted.
 */
export function isSuspectPresence (status: KernelPresenceStatus | null | undefined): boolean {
  return status == null || status.presence === HealthCheckStatus.STALE
}
