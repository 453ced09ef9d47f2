import { Type, type Static } from 'typebox'
import { KERNEL_STATUSES } from '../domain/kernel-status.js'
import { NAME_PATTERN } from '../domain/kernel-info.js'
import { SkipCause } from '../domain/results.js'
import { SweepOutcome } from '../domain/sweep.js'
import { HealthCheckStatus } from '../domain/presence.js'

/** Body limit of the bulk routes (`PUT /v1/kernels`, heartbeats); the others keep Fastify's 1 MiB. */
export const LARGE_BODY_LIMIT = 8 * 1024 * 1024

/** The wire shapes of contract §3, as TypeBox schemas: validation, serialization and OpenAPI from one source. */

const EXAMPLE_KERNEL_ID = '6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30'
const EXAMPLE_SESSION_ID = '0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f'
const EXAMPLE_SWEEP_ID = '3d0b3f52-1c44-4e9a-8a8c-5a2f0f6e7b11'

export const Uuid = Type.String({ format: 'uuid', examples: [EXAMPLE_KERNEL_ID] })
export const Name = Type.String({ pattern: NAME_PATTERN.source, examples: ['default'] })
export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-27T17:00:00.000Z'] })
export const KernelStatusSchema = Type.Enum([...KERNEL_STATUSES], { examples: ['RUNNING'] })
const SkipCauseSchema = Type.Enum(Object.values(SkipCause), { examples: ['agent_timeout'] })
const PresenceSchema = Type.Union([Type.Enum(Object.values(HealthCheckStatus)), Type.Null()])

export const Problem = Type.Object({
  type: Type.String({ description: 'Stable kind of error, e.g. validation-error, lock-busy, presence-unavailable.' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  sweep_id: Type.Optional(Type.String({ format: 'uuid', description: 'The failed sweep, recorded under this id.' })),
}, { description: 'RFC 9457 problem details.' })

export const KernelTransitionInfo = Type.Object({
  kernel_id: Uuid,
  from_status: KernelStatusSchema,
  reason: Type.Union([Type.String(), Type.Null()]),
})

export const Sweep = Type.Object({
  sweep_id: Uuid,
  scaling_group: Name,
  handler: Type.String({ examples: ['sweep-stale-kernels'] }),
  dry_run: Type.Boolean(),
  forced: Type.Boolean(),
  outcome: Type.Enum(Object.values(SweepOutcome)),
  started_at: Timestamp,
  finished_at: Timestamp,
  result: Type.Object({
    successes: Type.Array(KernelTransitionInfo),
    failures: Type.Array(KernelTransitionInfo),
  }, { description: 'The HandlerResult: every kernel swept, once, in input order.' }),
  terminated: Type.Array(Uuid, { description: 'Kernels whose status this sweep changed.' }),
  skipped: Type.Array(Type.Object({
    kernel_id: Uuid,
    cause: SkipCauseSchema,
    confirmations: Type.Optional(Type.Integer({ minimum: 1, description: 'With awaiting_confirmation: the sweeps in a row that found it dead so far.' })),
  }), {
    description: 'Suspect kernels left alone: their agent gave no verdict, or it is not yet confirmed (SWEEP_CONFIRMATIONS).',
  }),
  counts: Type.Object({
    kernels: Type.Integer({ minimum: 0 }),
    successes: Type.Integer({ minimum: 0 }),
    failures: Type.Integer({ minimum: 0 }),
    terminated: Type.Integer({ minimum: 0 }),
    skipped: Type.Integer({ minimum: 0 }),
  }, { description: 'The sizes of the lists above.' }),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why a failed sweep failed; null otherwise.' }),
})

export const SweepRequest = Type.Object({
  handler: Type.Optional(Type.Literal('sweep-stale-kernels', { default: 'sweep-stale-kernels' })),
  dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Check and report, change nothing.' })),
  force: Type.Optional(Type.Boolean({ default: false, description: 'Bypass the mass-termination guard.' })),
}, { additionalProperties: false, examples: [{ dry_run: true }] })

export const Kernel = Type.Object({
  kernel_id: Uuid,
  session_id: Uuid,
  scaling_group: Name,
  agent_id: Type.Union([Name, Type.Null()]),
  status: KernelStatusSchema,
  status_info: Type.Union([Type.String(), Type.Null()]),
  status_changed_at: Timestamp,
  terminated_at: Type.Union([Timestamp, Type.Null()]),
  created_at: Timestamp,
  version: Type.Integer({ minimum: 1, description: '1 at creation, raised by every change (a termination too); the ETag.' }),
})

const kernelFields = {
  session_id: Type.String({ format: 'uuid', examples: [EXAMPLE_SESSION_ID] }),
  scaling_group: Name,
  agent_id: Type.Union([Type.String({ pattern: NAME_PATTERN.source, examples: ['a1'] }), Type.Null()]),
  status: KernelStatusSchema,
}

export const KernelUpsert = Type.Object(kernelFields, {
  additionalProperties: false,
  examples: [{ session_id: EXAMPLE_SESSION_ID, scaling_group: 'default', agent_id: 'a1', status: 'RUNNING' }],
})

export const KernelBulkUpsert = Type.Object({
  kernels: Type.Array(Type.Object({
    kernel_id: Uuid,
    ...kernelFields,
    expected_version: Type.Optional(Type.Integer({
      minimum: 1, description: 'Replace only while the kernel exists at this version; otherwise the whole request is 412.',
    })),
  }, { additionalProperties: false }), { minItems: 1, maxItems: 10_000 }),
}, {
  additionalProperties: false,
  examples: [{ kernels: [{ kernel_id: EXAMPLE_KERNEL_ID, session_id: EXAMPLE_SESSION_ID, scaling_group: 'default', agent_id: 'a1', status: 'RUNNING' }] }],
})

export const KernelStatusChange = Type.Object({
  from_status: KernelStatusSchema,
  to_status: KernelStatusSchema,
  reason: Type.Union([Type.String(), Type.Null()]),
  sweep_id: Type.Union([Uuid, Type.Null()]),
  changed_at: Timestamp,
})

export const KernelPresence = Type.Object({
  kernel_id: Uuid,
  presence: PresenceSchema,
  last_presence: Type.Union([Type.Integer(), Type.Null()], { description: 'Seconds since the epoch of the last heartbeat.' }),
})

export const Agent = Type.Object({
  agent_id: Name,
  address: Type.String({ examples: ['http://127.0.0.1:9101'] }),
  scaling_group: Name,
  registered_at: Timestamp,
})

export const AgentRegistration = Type.Object({
  address: Type.String({ pattern: '^https?://[^/?#\\s]+$', maxLength: 2048, examples: ['http://127.0.0.1:9101'] }),
  scaling_group: Name,
}, { additionalProperties: false, examples: [{ address: 'http://127.0.0.1:9101', scaling_group: 'default' }] })

export const PresenceReport = Type.Object({
  kernels: Type.Unsafe<Record<string, boolean>>({
    type: 'object',
    propertyNames: { format: 'uuid' },
    additionalProperties: { type: 'boolean' },
    minProperties: 1,
    maxProperties: 10_000,
    description: 'Kernel id → running (true) or present but unhealthy (false).',
  }),
}, { additionalProperties: false, examples: [{ kernels: { [EXAMPLE_KERNEL_ID]: true } }] })

/** `If-Match` on `PUT /v1/kernels/{kernel_id}`; the `ETag` that `GET` and `PUT` answer with. */
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({
    maxLength: 1024,
    description: 'Apply only while the kernel exists at one of these versions (its ETag, e.g. `"3"`), or at all with `*`; otherwise 412.',
    examples: ['"3"'],
  })),
})
export const ETagHeader = { etag: { type: 'string', description: 'The kernel\'s version, quoted: `"3"`.' } }

export const ScalingGroupParams = Type.Object({ scaling_group: Name })
export const SweepIdParams = Type.Object({ sweep_id: Type.String({ format: 'uuid', examples: [EXAMPLE_SWEEP_ID] }) })
export const KernelIdParams = Type.Object({ kernel_id: Uuid })
export const AgentIdParams = Type.Object({ agent_id: Type.String({ pattern: NAME_PATTERN.source, examples: ['a1'] }) })

export type SweepWire = Static<typeof Sweep>
export type KernelWire = Static<typeof Kernel>
export type AgentWire = Static<typeof Agent>

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: the detail names the field. Nothing was written.',
  401: 'Missing or wrong bearer token.',
  404: 'No such resource.',
  409: 'A sweep of this scaling group is already running; see Retry-After.',
  412: 'The kernel is missing or not at the version the request expects: nothing was written.',
  413: 'Request body too large.',
  503: 'A store is unavailable, or the sweep outlived its lock: nothing was terminated.',
}

/** Problem-details responses for the given status codes, for a route's `response` schema. */
export function problemResponses (...codes: number[]): Record<number, typeof Problem> {
  return Object.fromEntries(codes.map((code) => [code, Type.Object(Problem.properties, { description: PROBLEM_DESCRIPTIONS[code] ?? 'Error.' })]))
}
