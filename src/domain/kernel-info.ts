import { isKernelStatus, type KernelStatus } from './kernel-status.js'

/** A kernel id: a UUID in its canonical lower-case form. */
export type KernelId = string
export type SessionId = string
export type AgentId = string

/** What a client declares about a kernel when it creates or replaces one. */
export interface KernelSpec {
  readonly id: KernelId
  readonly sessionId: SessionId
  readonly agentId: AgentId | null
  readonly scalingGroup: string
  readonly status: KernelStatus
}

/** A kernel: the spec at the `version` that was read (contract §1). */
export interface KernelInfo extends KernelSpec {
  /** 1 at creation, raised by every change; a termination applies only at the version read. */
  readonly version: number
}

/**
 * A kernel as a handler sees it: what a sweep decides on and applies at. Nothing more is read,
 * since a sweep holds every kernel of its group at once (the session and group would add a
 * third to its memory and its read).
 */
export type HandlerKernel = Pick<KernelInfo, 'id' | 'agentId' | 'status' | 'version'>

/**
 * A UUID in its canonical 8-4-4-4-12 form, in either case (contract: no `urn:uuid:`, no braces);
 * the `uuid` format of request validation too, so no other spelling reaches Postgres.
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** Scaling-group and agent names (contract §3): no path separators, no whitespace, bounded. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/

/** Raised when data from outside (a request, a database row) does not describe a valid kernel. */
export class InvalidKernelError extends Error {
  override readonly name = 'InvalidKernelError'

  constructor (readonly field: string, detail: string) {
    super(`${field}: ${detail}`)
  }
}

function isUuid (value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value)
}

function isName (value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value)
}

function uuidField (raw: Record<string, unknown>, field: string): string {
  const value = raw[field]
  if (!isUuid(value)) throw new InvalidKernelError(field, 'must be a UUID')
  // Postgres and agents print UUIDs in lower case; one spelling keeps id comparisons exact.
  return value.toLowerCase()
}

function nameField (raw: Record<string, unknown>, field: string): string {
  const value = raw[field]
  if (!isName(value)) throw new InvalidKernelError(field, `must match ${NAME_PATTERN.source}`)
  return value
}

/** Builds a `KernelSpec` from untrusted data, or throws `InvalidKernelError` naming the field. */
export function kernelSpecFrom (raw: unknown): KernelSpec {
  if (typeof raw !== 'object' || raw === null) throw new InvalidKernelError('kernel', 'must be an object')
  const fields = raw as Record<string, unknown>
  const status = fields['status']
  if (!isKernelStatus(status)) throw new InvalidKernelError('status', 'must be a known kernel status')
  return {
    id: uuidField(fields, 'id'),
    sessionId: uuidField(fields, 'sessionId'),
    agentId: fields['agentId'] === null ? null : nameField(fields, 'agentId'),
    scalingGroup: nameField(fields, 'scalingGroup'),
    status,
  }
}
