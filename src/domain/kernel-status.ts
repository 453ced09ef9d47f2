/** The lifecycle states of a kernel; the wire value is the name (contract §1). */
export const KernelStatus = {
  PENDING: 'PENDING',
  RESERVED: 'RESERVED',
  SCHEDULED: 'SCHEDULED',
  PREPARING: 'PREPARING',
  BUILDING: 'BUILDING',
  PULLING: 'PULLING',
  PREPARED: 'PREPARED',
  CREATING: 'CREATING',
  RUNNING: 'RUNNING',
  RESTARTING: 'RESTARTING',
  RESIZING: 'RESIZING',
  SUSPENDED: 'SUSPENDED',
  TERMINATING: 'TERMINATING',
  TERMINATED: 'TERMINATED',
  ERROR: 'ERROR',
  CANCELLED: 'CANCELLED',
} as const

export type KernelStatus = typeof KernelStatus[keyof typeof KernelStatus]

export const KERNEL_STATUSES: readonly KernelStatus[] = Object.freeze(Object.values(KernelStatus))

const knownStatuses: ReadonlySet<string> = new Set(KERNEL_STATUSES)

export function isKernelStatus (value: unknown): value is KernelStatus {
  return typeof value === 'string' && knownStatuses.has(value)
}

/** Statuses a kernel never leaves (contract §1). */
export const FINAL_KERNEL_STATUSES: readonly KernelStatus[] = Object.freeze([KernelStatus.TERMINATED, KernelStatus.CANCELLED, KernelStatus.ERROR])

/** Every status but the final ones: what decommissioning terminates and reconciliation expects to run. */
export const NON_FINAL_KERNEL_STATUSES: readonly KernelStatus[] = Object.freeze(KERNEL_STATUSES.filter((status) => !FINAL_KERNEL_STATUSES.includes(status)))
