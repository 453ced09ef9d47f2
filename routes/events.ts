import type { ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { EVENT_TYPES, type EventType } from '../src/domain/events.js'
import { openEventStream, pollEvents } from '../src/http/event-feed.js'
import { eventToWire } from '../src/http/event-wire.js'
import { HttpProblem, ProblemType } from '../src/http/problem.js'
import { eventCursor, EventList, problemResponses, ref } from '../src/http/schemas.js'
import { requireBearerToken } from '../src/plugins/auth.js'

const DEFAULT_LIMIT = 100
/** Contract §3: a comment line at least every 15 s. */
const DEFAULT_KEEP_ALIVE_MS = 15_000

export interface EventsRoutesOptions {
  /** How long a stream may go without a comment line; shorter in tests. */
  readonly keepAliveMs?: number
}

const escaped = EVENT_TYPES.map((type) => type.replaceAll('.', '\\.')).join('|')
const EventTypes = Type.String({
  pattern: `^(${escaped})(,(${escaped}))*$`,
  description: `Only events of these types, comma-separated: ${EVENT_TYPES.join(', ')}.`,
  examples: ['kernel.terminated,agent.decommissioned'],
})

function typesOf (list: string | undefined): EventType[] | null {
  return list === undefined ? null : [...new Set(list.split(','))] as EventType[]
}

function cursorExpired (after: string): HttpProblem {
  return new HttpProblem(410, ProblemType.CURSOR_EXPIRED, 'Cursor expired',
    `events after ${after} were pruned; read again without \`after\` to start from the oldest kept`)
}

/** Aborted when the connection closes before the answer is complete: the client has left. */
function clientGone (response: ServerResponse): AbortSignal {
  const left = new AbortController()
  response.once('close', () => { if (!response.writableFinished) left.abort() })
  return left.signal
}

/** The event log (rule 15): pages with long-poll, and a Server-Sent Events stream. */
const eventsRoutes: FastifyPluginAsyncTypebox<EventsRoutesOptions> = async (fastify, { keepAliveMs = DEFAULT_KEEP_ALIVE_MS }) => {
  requireBearerToken(fastify)
  const log = fastify.persistence

  // Closing the server ends every wait and every stream; the streams' answers are complete before
  // the server stops, so their connections are idle and closed with it rather than cut.
  const closing = new AbortController()
  const openStreams = new Set<Promise<void>>()
  fastify.addHook('preClose', async () => {
    closing.abort()
    await Promise.all(openStreams)
  })
  const waitForClose = (response: ServerResponse): void => {
    const closed: Promise<void> = new Promise((resolve) => {
      response.once('close', () => {
        openStreams.delete(closed)
        resolve()
      })
    })
    openStreams.add(closed)
  }

  fastify.get('/v1/events', {
    schema: {
      operationId: 'listEvents',
      tags: ['events'],
      summary: 'Read the event log',
      description: 'Events oldest first after the cursor `after` (from the oldest kept without it); pass `next_cursor` back ' +
        'as `after` for what follows. With `wait_sec` and nothing to give, the answer waits for a commit (by any ' +
        'instance) and comes as soon as there is an event, or after `wait_sec` with none (long-poll). 410 when events ' +
        'after `after` were pruned.',
      querystring: Type.Object({
        after: Type.Optional(eventCursor('The last event id the client has ("0": before the first).')),
        types: Type.Optional(EventTypes),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_LIMIT })),
        wait_sec: Type.Optional(Type.Integer({ minimum: 0, maximum: 30, default: 0, description: 'How long to wait for an event when there is none yet.' })),
      }, { additionalProperties: false }),
      response: { 200: { ...ref(EventList), description: 'A page of events, maybe empty.' }, ...problemResponses(400, 401, 410, 500, 503) },
    },
  }, async (request, reply) => {
    const { after, types, limit = DEFAULT_LIMIT, wait_sec: waitSec = 0 } = request.query
    const signal = AbortSignal.any([closing.signal, clientGone(reply.raw)])
    const page = await pollEvents(log, { after: after ?? null, types: typesOf(types), limit }, waitSec * 1000, signal)
    if (page === null) throw cursorExpired(after ?? '0')
    return { items: page.map(eventToWire), next_cursor: page.at(-1)?.id ?? after ?? '0' }
  })

  fastify.get('/v1/events/stream', {
    schema: {
      operationId: 'streamEvents',
      tags: ['events'],
      summary: 'Follow the event log (Server-Sent Events)',
      description: 'Every event as it commits, as `id: <id>`, `event: <type>` and `data: <CloudEvent JSON>`, and a comment ' +
        'line at least every 15 s. Resumes after the `Last-Event-ID` header (as EventSource sends it on reconnecting), ' +
        'else after `after`; with neither, only new events. 410 (before the stream starts) when events after the ' +
        'cursor were pruned.',
      headers: Type.Object({
        'last-event-id': Type.Optional(eventCursor('The last event id the client has; wins over `after`.')),
      }),
      querystring: Type.Object({
        after: Type.Optional(eventCursor('The last event id the client has ("0": before the first).')),
        types: Type.Optional(EventTypes),
      }, { additionalProperties: false }),
      response: {
        200: {
          description: 'The stream: it ends only when the client leaves or the service shuts down.',
          content: { 'text/event-stream': { schema: Type.String({ description: 'Server-Sent Events; each `data:` line is a CloudEvent.' }) } },
        },
        ...problemResponses(400, 401, 410, 500, 503),
      },
    },
  }, async (request, reply) => {
    // Before anything is awaited, so that a client leaving at any moment is noticed.
    const signal = AbortSignal.any([closing.signal, clientGone(reply.raw)])
    waitForClose(reply.raw)
    const after = request.headers['last-event-id'] ?? request.query.after ?? await log.events.lastId()
    const text = await openEventStream(log, { after, types: typesOf(request.query.types), keepAliveMs, signal })
    if (text === null) throw cursorExpired(after)
    // A plain stream, not an SSE plugin: Fastify pipes it with backpressure, runs its hooks, and
    // destroys it when the client leaves; the framing is one line (event-wire.ts).
    const body = Readable.from(text, { objectMode: false })
    return reply
      .type('text/event-stream')
      // No cache or proxy may hold events back.
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      // Typed as the text the schema documents: Fastify pipes a stream as it is read, unserialized.
      .send(body as unknown as string)
  })
}

export default eventsRoutes
