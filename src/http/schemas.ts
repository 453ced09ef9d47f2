import { Type, type Static, type TSchema } from 'typebox'
import { AGENT_STATUSES } from '../domain/agent.js'
import { EVENT_TYPES } from '../domain/events.js'
import { KERNEL_STATUSES } from '../domain/kernel-status.js'
import { NAME_PATTERN } from '../domain/kernel-info.js'
import { HealthCheckStatus as HealthCheckStatuses } from '../domain/presence.js'
import { SkipCause as SkipCauses } from '../domain/results.js'
import { SweepOutcome as SweepOutcomes } from '../domain/sweep.js'
import { PROBLEM_MEDIA_TYPE, ProblemType } from './problem.js'

/**
 * The wire shapes of contract §3, declared once as TypeBox schemas with an `$id`: registered in
 * Fastify's schema store (validation, serialization) and emitted by @fastify/swagger under
 * `components.schemas`, so generated clients get named types. Routes and other schemas refer to
 * them with `ref()`.
 */

/** Body limit of the bulk routes (`PUT /v1/kernels`, heartbeats, reconciliation); the others keep Fastify's 1 MiB. */
export const LARGE_BODY_LIMIT = 8 * 1024 * 1024

/** A reference to a shared schema, typed as the schema it names. */
export function ref<T extends TSchema> (schema: T): T {
  const id = (schema as { $id?: string }).$id
  if (id === undefined) throw new Error('only a schema with an $id can be referenced')
  return Type.Unsafe<Static<T>>({ $ref: id }) as unknown as T
}

/** A closed set of strings, typed as its members (TypeBox's own `Enum` leaves `type` out). */
function stringEnum<const T extends readonly string[]> (values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

// From a real run of `npm run demo` (two of its twelve kernels), so the examples agree with each
// other and with what the service answers.
const EXAMPLE_KERNEL_ID = '6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30'
const EXAMPLE_DEAD_KERNEL_ID = '4bce9f37-30a9-4276-8275-5db1aa6d9ace'
const EXAMPLE_SESSION_ID = '0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f'
const EXAMPLE_SWEEP_ID = 'f9764a5e-9a61-443c-9616-13070f961d8b'

const Uuid = Type.String({ format: 'uuid', examples: [EXAMPLE_KERNEL_ID] })
const Timestamp = Type.String({ format: 'date-time', examples: ['2026-12-02T06:00:00.000Z'] })

export const Name = Type.String({
  $id: 'Name', pattern: NAME_PATTERN.source, examples: ['default'], description: 'A scaling group or agent name.',
})
export const KernelStatus = stringEnum(KERNEL_STATUSES, { $id: 'KernelStatus', examples: ['RUNNING'] })
export const HealthCheckStatus = stringEnum(Object.values(HealthCheckStatuses), {
  $id: 'HealthCheckStatus', description: 'A kernel\'s heartbeat as the presence store has it.',
})
export const SkipCause = stringEnum(Object.values(SkipCauses), { $id: 'SkipCause', examples: ['agent_timeout'] })
export const SweepOutcome = stringEnum(Object.values(SweepOutcomes), { $id: 'SweepOutcome' })

export const KernelTransitionInfo = Type.Object({
  kernel_id: Uuid,
  from_status: ref(KernelStatus),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'Null on successes.' }),
}, { $id: 'KernelTransitionInfo' })

export const SkippedKernel = Type.Object({
  kernel_id: Uuid,
  cause: ref(SkipCause),
  confirmations: Type.Optional(Type.Integer({ minimum: 1, description: 'With awaiting_confirmation: the sweeps in a row that found it dead so far.' })),
}, { $id: 'SkippedKernel' })

export const Sweep = Type.Object({
  sweep_id: Uuid,
  scaling_group: ref(Name),
  handler: Type.String({
    description: '`sweep-stale-kernels`, or `decommission-agent` for `POST /v1/agents/{agent_id}/decommission`.',
    examples: ['sweep-stale-kernels'],
  }),
  dry_run: Type.Boolean(),
  forced: Type.Boolean(),
  outcome: ref(SweepOutcome),
  started_at: Timestamp,
  finished_at: Timestamp,
  result: Type.Object({
    successes: Type.Array(ref(KernelTransitionInfo)),
    failures: Type.Array(ref(KernelTransitionInfo)),
  }, { description: 'The HandlerResult: every kernel swept, once, in input order.' }),
  terminated: Type.Array(Uuid, { description: 'Kernels whose status this sweep changed.' }),
  skipped: Type.Array(ref(SkippedKernel), {
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
}, {
  $id: 'Sweep',
  description: 'A recorded sweep, as it was answered when it ran.',
  examples: [{
    sweep_id: EXAMPLE_SWEEP_ID,
    scaling_group: 'default',
    handler: 'sweep-stale-kernels',
    dry_run: false,
    forced: false,
    outcome: 'completed',
    started_at: '2026-12-02T05:51:49.731Z',
    finished_at: '2026-12-02T05:51:49.774Z',
    result: {
      successes: [{ kernel_id: EXAMPLE_KERNEL_ID, from_status: 'RUNNING', reason: null }],
      failures: [{ kernel_id: EXAMPLE_DEAD_KERNEL_ID, from_status: 'RUNNING', reason: 'STALE_KERNEL' }],
    },
    terminated: [EXAMPLE_DEAD_KERNEL_ID],
    skipped: [],
    counts: { kernels: 2, successes: 1, failures: 1, terminated: 1, skipped: 0 },
    error: null,
  }],
})

export const SweepList = Type.Object({ items: Type.Array(ref(Sweep)) }, { $id: 'SweepList', description: 'Newest first.' })

export const SweepRequest = Type.Object({
  handler: Type.Optional(Type.Literal('sweep-stale-kernels', { default: 'sweep-stale-kernels' })),
  dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Check and report, change nothing.' })),
  force: Type.Optional(Type.Boolean({ default: false, description: 'Bypass the mass-termination guard.' })),
}, { $id: 'SweepRequest', additionalProperties: false, examples: [{ dry_run: true }] })

export const Kernel = Type.Object({
  kernel_id: Uuid,
  session_id: Uuid,
  scaling_group: ref(Name),
  agent_id: Type.Union([ref(Name), Type.Null()]),
  status: ref(KernelStatus),
  status_info: Type.Union([Type.String(), Type.Null()]),
  status_changed_at: Timestamp,
  terminated_at: Type.Union([Timestamp, Type.Null()]),
  created_at: Timestamp,
  version: Type.Integer({ minimum: 1, description: '1 at creation, raised by every change (a termination too); the ETag.' }),
}, {
  $id: 'Kernel',
  examples: [{
    kernel_id: EXAMPLE_KERNEL_ID,
    session_id: EXAMPLE_SESSION_ID,
    scaling_group: 'default',
    agent_id: 'a1',
    status: 'RUNNING',
    status_info: null,
    status_changed_at: '2026-12-02T05:59:00.000Z',
    terminated_at: null,
    created_at: '2026-12-02T05:59:00.000Z',
    version: 1,
  }],
})

export const KernelList = Type.Object({
  items: Type.Array(ref(Kernel)),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass back as `cursor` for the next page; null on the last.' }),
}, { $id: 'KernelList' })

const kernelFields = {
  session_id: Type.String({ format: 'uuid', examples: [EXAMPLE_SESSION_ID] }),
  scaling_group: ref(Name),
  agent_id: Type.Union([ref(Name), Type.Null()]),
  status: ref(KernelStatus),
}

export const KernelUpsert = Type.Object(kernelFields, {
  $id: 'KernelUpsert',
  additionalProperties: false,
  examples: [{ session_id: EXAMPLE_SESSION_ID, scaling_group: 'default', agent_id: 'a1', status: 'RUNNING' }],
})

export const KernelBulkEntry = Type.Object({
  kernel_id: Uuid,
  ...kernelFields,
  expected_version: Type.Optional(Type.Integer({
    minimum: 1, description: 'Replace only while the kernel exists at this version; otherwise the whole request is 412.',
  })),
}, { $id: 'KernelBulkEntry', additionalProperties: false })

export const KernelBulkUpsert = Type.Object({
  kernels: Type.Array(ref(KernelBulkEntry), { minItems: 1, maxItems: 10_000 }),
}, {
  $id: 'KernelBulkUpsert',
  additionalProperties: false,
  examples: [{ kernels: [{ kernel_id: EXAMPLE_KERNEL_ID, session_id: EXAMPLE_SESSION_ID, scaling_group: 'default', agent_id: 'a1', status: 'RUNNING' }] }],
})

export const KernelBulkUpsertResult = Type.Object({ upserted: Type.Integer({ minimum: 1 }) }, { $id: 'KernelBulkUpsertResult' })

export const KernelStatusChange = Type.Object({
  from_status: ref(KernelStatus),
  to_status: ref(KernelStatus),
  reason: Type.Union([Type.String(), Type.Null()]),
  sweep_id: Type.Union([Uuid, Type.Null()], { description: 'The sweep that made the change; null for a change by PUT.' }),
  changed_at: Timestamp,
}, { $id: 'KernelStatusChange' })

export const KernelHistory = Type.Object({ items: Type.Array(ref(KernelStatusChange)) }, { $id: 'KernelHistory', description: 'Oldest first.' })

export const KernelPresence = Type.Object({
  kernel_id: Uuid,
  presence: Type.Union([ref(HealthCheckStatus), Type.Null()], { description: 'Null: no record.' }),
  last_presence: Type.Union([Type.Integer(), Type.Null()], { description: 'Seconds since the epoch of the last heartbeat.' }),
}, { $id: 'KernelPresence' })

export const AgentStatus = stringEnum(AGENT_STATUSES, {
  $id: 'AgentStatus',
  description: 'Derived when read: DECOMMISSIONED until registered again; else ALIVE while reachable; else LOST once ' +
    'unreachable for longer than AGENT_LOST_AFTER_SEC; else UNREACHABLE.',
  examples: ['ALIVE'],
})

export const Agent = Type.Object({
  agent_id: ref(Name),
  address: Type.String({ examples: ['http://127.0.0.1:9101'] }),
  scaling_group: ref(Name),
  status: ref(AgentStatus),
  registered_at: Timestamp,
  last_reached_at: Type.Union([Timestamp, Type.Null()], { description: 'When a sweep last got an answer from this agent; null if none has.' }),
  unreachable_since: Type.Union([Timestamp, Type.Null()], {
    description: 'Since when every call of the sweeps to this agent failed (refused, timed out, 404, another agent); null while reachable.',
  }),
}, {
  $id: 'Agent',
  examples: [{
    agent_id: 'a1',
    address: 'http://127.0.0.1:9101',
    scaling_group: 'default',
    status: 'ALIVE',
    registered_at: '2026-12-02T05:50:00.000Z',
    last_reached_at: '2026-12-02T05:51:49.760Z',
    unreachable_since: null,
  }],
})

export const AgentList = Type.Object({
  items: Type.Array(ref(Agent)),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass back as `cursor` for the next page; null on the last.' }),
}, { $id: 'AgentList' })

export const AgentRegistration = Type.Object({
  address: Type.String({
    pattern: '^https?://[^/?#\\s]+/?$',
    maxLength: 2048,
    description: 'Where the agent answers: stored as its origin, `http(s)://host[:port]`.',
    examples: ['http://127.0.0.1:9101'],
  }),
  scaling_group: ref(Name),
}, { $id: 'AgentRegistration', additionalProperties: false, examples: [{ address: 'http://127.0.0.1:9101', scaling_group: 'default' }] })

export const PresenceReport = Type.Object({
  kernels: Type.Unsafe<Record<string, boolean>>({
    type: 'object',
    propertyNames: { format: 'uuid' },
    additionalProperties: { type: 'boolean' },
    minProperties: 1,
    maxProperties: 10_000,
    description: 'Kernel id → running (true) or present but unhealthy (false).',
  }),
}, { $id: 'PresenceReport', additionalProperties: false, examples: [{ kernels: { [EXAMPLE_KERNEL_ID]: true } }] })

export const ReconcileRequest = Type.Object({
  kernels: Type.Array(Uuid, { maxItems: 10_000, description: 'Every kernel the agent runs now (0 to 10,000).' }),
}, { $id: 'ReconcileRequest', additionalProperties: false, examples: [{ kernels: [EXAMPLE_KERNEL_ID, EXAMPLE_DEAD_KERNEL_ID] }] })

export const Reconciliation = Type.Object({
  orphans: Type.Array(Uuid, {
    description: 'Kernels the agent listed and should stop: unknown to the service, in a final status, or assigned to another agent. In the order listed.',
  }),
  missing: Type.Array(Uuid, { description: 'Kernels of this agent in a non-final status that it did not list. In id order.' }),
}, { $id: 'Reconciliation', examples: [{ orphans: [EXAMPLE_DEAD_KERNEL_ID], missing: [] }] })

export const DecommissionRequest = Type.Object({
  dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Report what would be terminated, change nothing.' })),
  force: Type.Optional(Type.Boolean({ default: false, description: 'Bypass the mass-termination guard.' })),
}, { $id: 'DecommissionRequest', additionalProperties: false, examples: [{ dry_run: true }] })

// Events (rule 15): CloudEvents 1.0 in structured JSON, with the data of contract §3.

export const EventType = stringEnum(EVENT_TYPES, { $id: 'EventType', examples: ['kernel.terminated'] })

const EventSweepId = Type.String({ format: 'uuid', examples: [EXAMPLE_SWEEP_ID], description: 'The sweep, as `GET /v1/sweeps/{sweep_id}` reads it back.' })

/** An event id, or a cursor that names one (`after`, `Last-Event-ID`): a decimal integer, "0" before the first event. */
export function eventCursor (description: string) {
  return Type.String({ pattern: '^(0|[1-9][0-9]{0,17})$', examples: ['42'], description })
}

export const KernelTerminatedData = Type.Object({
  kernel_id: Uuid,
  session_id: Type.String({ format: 'uuid', examples: [EXAMPLE_SESSION_ID] }),
  scaling_group: ref(Name),
  agent_id: Type.Union([ref(Name), Type.Null()]),
  from_status: ref(KernelStatus),
  reason: Type.String({ examples: ['STALE_KERNEL'] }),
  sweep_id: EventSweepId,
  version: Type.Integer({ minimum: 1, description: 'The kernel\'s version after the termination.' }),
}, { $id: 'KernelTerminatedData', description: 'The data of a `kernel.terminated` event.' })

export const SweepFinishedData = Type.Object({
  sweep_id: EventSweepId,
  scaling_group: ref(Name),
  handler: Type.String({ examples: ['sweep-stale-kernels'] }),
  outcome: ref(SweepOutcome),
  dry_run: Type.Boolean(),
  forced: Type.Boolean(),
  kernels: Type.Integer({ minimum: 0 }),
  failures: Type.Integer({ minimum: 0 }),
  terminated: Type.Integer({ minimum: 0 }),
  skipped: Type.Integer({ minimum: 0 }),
}, { $id: 'SweepFinishedData', description: 'The data of a `sweep.finished` event: the sweep\'s counts; read the sweep for its lists.' })

export const AgentDecommissionedData = Type.Object({
  agent_id: ref(Name),
  scaling_group: ref(Name),
  sweep_id: EventSweepId,
}, { $id: 'AgentDecommissionedData', description: 'The data of an `agent.decommissioned` event.' })

export const CloudEvent = Type.Object({
  specversion: Type.Literal('1.0'),
  id: eventCursor('Strictly increasing, in commit order: pass the last one read as `after`.'),
  source: Type.Literal('kernel-sweeper'),
  type: ref(EventType),
  time: Timestamp,
  subject: Type.String({ description: 'What the event is about: the kernel id, the sweep id or the agent id, by type.' }),
  datacontenttype: Type.Literal('application/json'),
  data: Type.Union([ref(KernelTerminatedData), ref(SweepFinishedData), ref(AgentDecommissionedData)], {
    description: 'KernelTerminatedData, SweepFinishedData or AgentDecommissionedData, by `type`.',
  }),
}, {
  $id: 'CloudEvent',
  description: 'One entry of the event log, as a CloudEvents 1.0 event in structured JSON.',
  examples: [{
    specversion: '1.0',
    id: '42',
    source: 'kernel-sweeper',
    type: 'kernel.terminated',
    time: '2026-12-02T05:51:49.770Z',
    subject: EXAMPLE_DEAD_KERNEL_ID,
    datacontenttype: 'application/json',
    data: {
      kernel_id: EXAMPLE_DEAD_KERNEL_ID,
      session_id: EXAMPLE_SESSION_ID,
      scaling_group: 'default',
      agent_id: 'a1',
      from_status: 'RUNNING',
      reason: 'STALE_KERNEL',
      sweep_id: EXAMPLE_SWEEP_ID,
      version: 2,
    },
  }],
})

export const EventList = Type.Object({
  items: Type.Array(ref(CloudEvent)),
  next_cursor: eventCursor('Pass back as `after`: the last item\'s id, or with no items the `after` given ("0" when none was).'),
}, { $id: 'EventList', description: 'Oldest first.' })

export const Health = Type.Object({ status: Type.Literal('ok') }, { $id: 'Health' })

export const Readiness = Type.Object({
  status: stringEnum(['ok', 'unavailable']),
  checks: Type.Object({
    database: Type.String({ description: '"ok", or why not, naming the store and where it is (never credentials).' }),
    presence: Type.String({ description: '"ok", or why not, naming the store and where it is (never credentials).' }),
  }),
  locations: Type.Object({
    database: Type.String({ description: 'Where the database is (never credentials).' }),
    presence: Type.String({ description: 'Where presence is kept; through Sentinel, the master in use (never credentials).' }),
  }),
}, {
  $id: 'Readiness',
  examples: [{
    status: 'ok',
    checks: { database: 'ok', presence: 'ok' },
    locations: { database: 'PostgreSQL at db:5432/kernels', presence: 'Valkey master mymaster at 10.0.0.12:6379/2 through sentinels s1:26379,s2:26379,s3:26379' },
  }],
})

export const ScalingGroupParams = Type.Object({ scaling_group: ref(Name) })
export const SweepIdParams = Type.Object({ sweep_id: Type.String({ format: 'uuid', examples: [EXAMPLE_SWEEP_ID] }) })
export const KernelIdParams = Type.Object({ kernel_id: Uuid })
export const AgentIdParams = Type.Object({ agent_id: Type.String({ pattern: NAME_PATTERN.source, examples: ['a1'] }) })

/** `If-Match` on `PUT /v1/kernels/{kernel_id}`; the `ETag` that `GET` and `PUT` answer with. */
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({
    maxLength: 1024,
    description: 'Apply only while the kernel exists at one of these versions (its ETag, e.g. `"3"`), or at all with `*`; otherwise 412.',
    examples: ['"3"'],
  })),
})
export const ETagHeader = { etag: { type: 'string', description: 'The kernel\'s version, quoted: `"3"`.' } }
export const LocationHeader = { location: { type: 'string', description: 'Where the sweep can be read back: `/v1/sweeps/{sweep_id}`.' } }

export type SweepWire = Static<typeof Sweep>
export type KernelWire = Static<typeof Kernel>
export type AgentWire = Static<typeof Agent>
export type CloudEventWire = Static<typeof CloudEvent>
export type EventListWire = Static<typeof EventList>

/**
 * RFC 9457 problem details, one named schema per status code with the `type`s that status can
 * carry, so a client can narrow on `lock-busy`. Every error is sent as `application/problem+json`.
 */
const PROBLEMS: Record<number, { id: string, types: readonly ProblemType[], description: string, headers?: Record<string, unknown> }> = {
  400: {
    id: 'BadRequestProblem',
    types: [ProblemType.VALIDATION_ERROR, ProblemType.MALFORMED_JSON, ProblemType.BAD_URL, ProblemType.BAD_REQUEST],
    description: 'Invalid request: the detail names the field. Nothing was written.',
  },
  401: {
    id: 'UnauthorizedProblem',
    types: [ProblemType.UNAUTHORIZED],
    description: 'Missing or wrong bearer token.',
    headers: { 'www-authenticate': { type: 'string', description: '`Bearer`.' } },
  },
  403: {
    id: 'ForbiddenProblem',
    types: [ProblemType.FORBIDDEN],
    description: "An agent's own token on another agent's route: an agent speaks only for itself.",
  },
  404: { id: 'NotFoundProblem', types: [ProblemType.NOT_FOUND], description: 'No such resource.' },
  409: {
    id: 'LockBusyProblem',
    types: [ProblemType.LOCK_BUSY],
    description: 'A sweep of this scaling group is already running.',
    headers: { 'retry-after': { type: 'string', description: 'Seconds to wait before trying again.' } },
  },
  412: {
    id: 'PreconditionFailedProblem',
    types: [ProblemType.PRECONDITION_FAILED],
    description: 'The kernel is missing or not at the version the request expects: nothing was written.',
  },
  410: {
    id: 'CursorExpiredProblem',
    types: [ProblemType.CURSOR_EXPIRED],
    description: 'Events after the cursor were pruned (EVENT_RETENTION_HOURS): read again without `after`, from the oldest kept.',
  },
  413: { id: 'BodyTooLargeProblem', types: [ProblemType.BODY_TOO_LARGE], description: 'Request body too large.' },
  414: { id: 'UriTooLongProblem', types: [ProblemType.URI_TOO_LONG], description: 'A path parameter is longer than any valid value.' },
  415: { id: 'UnsupportedMediaTypeProblem', types: [ProblemType.UNSUPPORTED_MEDIA_TYPE], description: 'The body is not application/json.' },
  500: { id: 'InternalErrorProblem', types: [ProblemType.INTERNAL_ERROR], description: 'A fault of the service; its logs say more.' },
  503: {
    id: 'UnavailableProblem',
    types: [ProblemType.PRESENCE_UNAVAILABLE, ProblemType.DATABASE_UNAVAILABLE, ProblemType.LOCK_EXPIRED, ProblemType.SHUTTING_DOWN],
    description: 'A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated.',
  },
}

const problemSchemas = Object.fromEntries(Object.entries(PROBLEMS).map(([status, problem]) => [status, Type.Object({
  type: stringEnum(problem.types, { description: 'The stable kind of the error.' }),
  title: Type.String(),
  status: Type.Unsafe<number>({ type: 'integer', const: Number(status) }),
  detail: Type.String(),
  sweep_id: Type.Optional(Type.String({ format: 'uuid', description: 'A failed sweep, recorded under this id.' })),
}, { $id: problem.id, description: `RFC 9457 problem details: ${problem.description}` })]))

/** Problem-details responses for the given status codes, for a route's `response` schema. */
export function problemResponses (...codes: Array<keyof typeof PROBLEMS>): Record<number, unknown> {
  return Object.fromEntries(codes.map((code) => {
    const problem = PROBLEMS[code]!
    return [code, {
      description: problem.description,
      ...(problem.headers === undefined ? {} : { headers: problem.headers }),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: problem.id } } },
    }]
  }))
}

/** Every named schema, in an order where each comes after those it refers to. */
export const SHARED_SCHEMAS: readonly TSchema[] = [
  Name, KernelStatus, HealthCheckStatus, SkipCause, SweepOutcome,
  KernelTransitionInfo, SkippedKernel, Sweep, SweepList, SweepRequest,
  Kernel, KernelList, KernelUpsert, KernelBulkEntry, KernelBulkUpsert, KernelBulkUpsertResult,
  KernelStatusChange, KernelHistory, KernelPresence,
  AgentStatus, Agent, AgentList, AgentRegistration, PresenceReport, ReconcileRequest, Reconciliation, DecommissionRequest,
  EventType, KernelTerminatedData, SweepFinishedData, AgentDecommissionedData, CloudEvent, EventList,
  Health, Readiness,
  ...Object.values(problemSchemas),
]
