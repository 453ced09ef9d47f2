import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { Client, request } from 'undici'
import eventsRoutes from '../../routes/events.js'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import type { SweepSummary } from '../../src/domain/events.js'
import type { KernelInfo } from '../../src/domain/kernel-info.js'
import { SweepOutcome } from '../../src/domain/sweep.js'
import { PROBLEM_MEDIA_TYPE } from '../../src/http/problem.js'
import { EventRepository } from '../../src/persistence/event-repository.js'
import type { Persistence } from '../../src/persistence/persistence.js'
import authPlugin from '../../src/plugins/auth.js'
import errorHandlerPlugin from '../../src/plugins/error-handler.js'
import persistencePlugin from '../../src/plugins/persistence.js'
import validationPlugin from '../../src/plugins/validation.js'
import { runningKernel } from '../helpers/kernels.js'
import { sweepSummary } from '../helpers/persistence-contract.js'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'

/*
 * Issue 14, items 3 and 4: `GET /v1/events` (pages, long-poll) and `GET /v1/events/stream`
 * (Server-Sent Events), on embedded PGlite and, for a commit by another connection, real Postgres.
 * Events are written as a sweep writes them (its terminations and its events in one transaction),
 * straight through the persistence: these tests are about reading them.
 */

async function embeddedApp (t: Test, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0', ...env }), { logger: false })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

async function listening (app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

interface Committed {
  readonly sweep: SweepSummary
  readonly kernels: readonly KernelInfo[]
}

/** One sweep's writes: `terminated` RUNNING kernels of agent a1 terminated, and its events, in one transaction. */
async function commitSweep (p: Persistence, { terminated = 0, decommissioned = [] as string[] } = {}): Promise<Committed> {
  const kernels = Array.from({ length: terminated }, () => runningKernel('a1'))
  if (kernels.length > 0) await p.kernels.upsertMany(kernels)
  const sweep = sweepSummary({
    handler: decommissioned.length > 0 ? 'decommission-agent' : 'sweep-stale-kernels', kernels: terminated, failures: terminated, terminated,
  })
  await p.db.transaction(async (tx) => {
    await p.stateEngine.within(tx).markKernelsTerminated(kernels.map((kernel) => ({
      kernelId: kernel.id, reason: 'STALE_KERNEL', fromStatus: kernel.status, expectedVersion: kernel.version,
    })), { sweepId: sweep.sweepId })
    await p.events.within(tx).appendSweepEvents(sweep, decommissioned)
  })
  return { sweep, kernels }
}

interface WireEvent { id: string, type: string, subject: string, time: string, data: Record<string, unknown> }
interface Page { items: WireEvent[], next_cursor: string }

async function page (app: FastifyInstance, query: string): Promise<Page> {
  const response = await app.inject({ method: 'GET', url: `/v1/events${query}` })
  if (response.statusCode !== 200) throw new Error(`GET /v1/events${query}: ${response.statusCode} ${response.body}`)
  return response.json()
}

const ids = (events: ReadonlyArray<{ id: string }>): string[] => events.map((event) => event.id)

/** Replaces `target[method]` with a wrapper that records the signal of each call, until teardown. */
function recordSignals (t: Test, notifier: Persistence['eventNotifier']): AbortSignal[] {
  const signals: AbortSignal[] = []
  const original = notifier.nextCommit.bind(notifier)
  notifier.nextCommit = (timeoutMs, signal) => {
    if (signal !== undefined) signals.push(signal)
    return original(timeoutMs, signal)
  }
  t.teardown(() => { notifier.nextCommit = original })
  return signals
}

async function until (what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(5)
  }
}

interface Frame { readonly id?: string, readonly event?: string, readonly data?: string, readonly comment?: string }

/**
 * A client of the stream over a real HTTP connection: it reads the body as it comes and splits it
 * into Server-Sent Events frames (a frame ends at a blank line; `:` lines are comments).
 */
class StreamClient {
  readonly frames: Frame[] = []
  readonly ended: Promise<void>
  private text = ''

  private constructor (
    private readonly connection: Client,
    readonly status: number,
    readonly headers: Record<string, unknown>,
    readonly body: AsyncIterable<Buffer> & { destroy (): void }
  ) {
    this.ended = this.read()
  }

  /**
   * On a connection of its own: undici's shared pool may open spare connections that never carry
   * a request, which a closing server waits for (as for any client's) until they time out.
   */
  static async open (url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
    const connection = new Client(new URL(url).origin)
    const response = await request(url, { dispatcher: connection, headers, bodyTimeout: 0 })
    return new StreamClient(connection, response.statusCode, response.headers, response.body)
  }

  private closedHere = false

  private async read (): Promise<void> {
    try {
      await this.parse()
    } catch (error) {
      if (!this.closedHere) throw error
    }
  }

  private async parse (): Promise<void> {
    for await (const chunk of this.body) {
      this.text += chunk.toString('utf8')
      let end: number
      while ((end = this.text.indexOf('\n\n')) >= 0) {
        const block = this.text.slice(0, end)
        this.text = this.text.slice(end + 2)
        const frame: Record<string, string> = {}
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) frame['comment'] = line.slice(1).trim()
          else frame[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 2)
        }
        this.frames.push(frame)
      }
    }
  }

  get events (): Frame[] {
    return this.frames.filter((frame) => frame.id !== undefined)
  }

  get comments (): string[] {
    return this.frames.flatMap((frame) => frame.comment ?? [])
  }

  async waitForEvents (count: number, timeoutMs = 5_000): Promise<Frame[]> {
    await until(`${count} events`, () => this.events.length >= count, timeoutMs)
    return this.events
  }

  async close (): Promise<void> {
    this.closedHere = true
    this.body.destroy()
    await this.connection.destroy()
  }
}

t.test('GET /v1/events: pages after a cursor, by type, with a limit', async (t) => {
  const app = await embeddedApp(t)
  t.same(await page(app, ''), { items: [], next_cursor: '0' }, 'nothing yet, no cursor given: "0"')
  t.same(await page(app, '?after=5'), { items: [], next_cursor: '5' }, 'no items: the cursor given')

  const first = await commitSweep(app.persistence, { terminated: 2 }) // 1, 2 kernel.terminated; 3 sweep.finished
  const second = await commitSweep(app.persistence, { decommissioned: ['a1'] }) // 4 agent.decommissioned; 5 sweep.finished

  const all = await app.inject({ method: 'GET', url: '/v1/events' })
  t.equal(all.statusCode, 200)
  t.match(all.headers['content-type'], /^application\/json/)
  const { items, next_cursor: nextCursor } = all.json() as Page
  t.same(ids(items), ['1', '2', '3', '4', '5'], 'oldest first')
  t.equal(nextCursor, '5', 'the last item\'s id')
  t.same(items.map((event) => event.type), ['kernel.terminated', 'kernel.terminated', 'sweep.finished', 'agent.decommissioned', 'sweep.finished'])

  const terminated = items.find((event) => event.subject === first.kernels[0]!.id)
  t.ok(terminated, 'an event per terminated kernel, about that kernel')
  t.same(terminated, {
    specversion: '1.0',
    id: terminated!.id,
    source: 'kernel-sweeper',
    type: 'kernel.terminated',
    time: terminated!.time,
    subject: first.kernels[0]!.id,
    datacontenttype: 'application/json',
    data: {
      kernel_id: first.kernels[0]!.id,
      session_id: first.kernels[0]!.sessionId,
      scaling_group: 'default',
      agent_id: 'a1',
      from_status: 'RUNNING',
      reason: 'STALE_KERNEL',
      sweep_id: first.sweep.sweepId,
      version: 2,
    },
  }, 'a CloudEvent with the data of contract §3')
  t.match(terminated!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'time in RFC 3339, UTC')
  t.same(items[2], {
    specversion: '1.0',
    id: '3',
    source: 'kernel-sweeper',
    type: 'sweep.finished',
    time: items[2]!.time,
    subject: first.sweep.sweepId,
    datacontenttype: 'application/json',
    data: {
      sweep_id: first.sweep.sweepId,
      scaling_group: 'default',
      handler: 'sweep-stale-kernels',
      outcome: 'completed',
      dry_run: false,
      forced: false,
      kernels: 2,
      failures: 2,
      terminated: 2,
      skipped: 0,
    },
  })
  t.match(items[3], { subject: 'a1', data: { agent_id: 'a1', scaling_group: 'default', sweep_id: second.sweep.sweepId } })

  t.same(await page(app, '?limit=2').then((p) => [ids(p.items), p.next_cursor]), [['1', '2'], '2'])
  t.same(await page(app, '?after=2&limit=2').then((p) => [ids(p.items), p.next_cursor]), [['3', '4'], '4'])
  t.same(await page(app, '?after=4&limit=2').then((p) => [ids(p.items), p.next_cursor]), [['5'], '5'])
  t.same(await page(app, '?after=5'), { items: [], next_cursor: '5' }, 'caught up')
  t.same(await page(app, '?after=0').then((p) => ids(p.items)), ['1', '2', '3', '4', '5'], '"0": from the first')
  t.same(await page(app, '?types=sweep.finished').then((p) => [ids(p.items), p.next_cursor]), [['3', '5'], '5'])
  t.same(await page(app, '?types=kernel.terminated,agent.decommissioned&after=1').then((p) => [ids(p.items), p.next_cursor]), [['2', '4'], '4'])
  t.same(await page(app, '?types=agent.decommissioned&after=4'), { items: [], next_cursor: '4' }, 'none of that type after the cursor')
  t.same(await page(app, '?types=sweep.finished,sweep.finished').then((p) => ids(p.items)), ['3', '5'], 'a type named twice')
})

t.test('bad parameters are 400 naming the field, on both routes', async (t) => {
  const app = await embeddedApp(t)
  const bad: Array<[string, RegExp, Record<string, string>?]> = [
    ['/v1/events?after=-1', /after/],
    ['/v1/events?after=abc', /after/],
    ['/v1/events?after=007', /after/],
    ['/v1/events?after=1.5', /after/],
    ['/v1/events?after=12345678901234567890', /after/],
    ['/v1/events?types=kernel.killed', /types/],
    ['/v1/events?types=', /types/],
    ['/v1/events?types=kernel.terminated,', /types/],
    ['/v1/events?limit=0', /limit/],
    ['/v1/events?limit=1001', /limit/],
    ['/v1/events?wait_sec=31', /wait_sec/],
    ['/v1/events?wait_sec=-1', /wait_sec/],
    ['/v1/events?cursor=5', /cursor/],
    ['/v1/events/stream?after=x', /after/],
    ['/v1/events/stream?types=kernel.terminated,kernel.killed', /types/],
    ['/v1/events/stream?limit=5', /limit/],
    ['/v1/events/stream', /last-event-id/, { 'last-event-id': 'abc' }],
  ]
  for (const [url, field, headers] of bad) {
    const response = await app.inject({ method: 'GET', url, ...(headers === undefined ? {} : { headers }) })
    t.equal(response.statusCode, 400, url)
    t.match(response.headers['content-type'], PROBLEM_MEDIA_TYPE)
    t.match(response.json(), { type: 'validation-error', status: 400, detail: field }, `${url}: the detail names the field`)
  }
})

t.test('with API_TOKEN, both routes need it', async (t) => {
  const app = await embeddedApp(t, { API_TOKEN: 'events-token' })
  for (const url of ['/v1/events', '/v1/events?wait_sec=5', '/v1/events/stream']) {
    for (const authorization of [undefined, 'Bearer wrong']) {
      const response = await app.inject({ method: 'GET', url, ...(authorization === undefined ? {} : { headers: { authorization } }) })
      t.equal(response.statusCode, 401, `${url} with ${authorization ?? 'no token'}`)
      t.equal(response.headers['www-authenticate'], 'Bearer')
      t.match(response.json(), { type: 'unauthorized' })
    }
  }
  const ok = await app.inject({ method: 'GET', url: '/v1/events', headers: { authorization: 'Bearer events-token' } })
  t.same([ok.statusCode, ok.json()], [200, { items: [], next_cursor: '0' }])
})

t.test('410 cursor-expired once events after the cursor were pruned', async (t) => {
  const app = await embeddedApp(t)
  const base = await listening(app)
  for (let i = 0; i < 3; i++) await commitSweep(app.persistence) // 1, 2, 3
  await app.persistence.db.query("UPDATE events SET time = now() - interval '2 hours' WHERE id <= 2")
  t.equal(await app.persistence.events.prune(new Date(Date.now() - 3_600_000)), 2)

  for (const url of ['/v1/events?after=1', '/v1/events?after=0&types=kernel.terminated', '/v1/events?after=1&wait_sec=5', '/v1/events/stream?after=0']) {
    const response = await app.inject({ method: 'GET', url })
    t.equal(response.statusCode, 410, url)
    t.match(response.headers['content-type'], PROBLEM_MEDIA_TYPE)
    t.match(response.json(), { type: 'cursor-expired', title: String, status: 410, detail: /pruned/ })
  }
  const resumed = await app.inject({ method: 'GET', url: '/v1/events/stream', headers: { 'last-event-id': '1' } })
  t.equal(resumed.statusCode, 410, 'Last-Event-ID below what is kept')

  // Over a real connection, the stream's 410 is an ordinary problem answer: nothing was streamed.
  const stream = await request(`${base}/v1/events/stream?after=1`)
  t.equal(stream.statusCode, 410)
  t.match(stream.headers['content-type'], PROBLEM_MEDIA_TYPE)
  t.match(await stream.body.json(), { type: 'cursor-expired' })

  t.same(await page(app, '?after=2').then((p) => ids(p.items)), ['3'], 'a reader that had 2 misses nothing')
  t.same(await page(app, '').then((p) => ids(p.items)), ['3'], 'without a cursor: from the oldest kept')
})

t.test('long-poll: answers as soon as an event commits, or empty after wait_sec', async (t) => {
  const app = await embeddedApp(t)
  await commitSweep(app.persistence) // 1

  const immediate = Date.now()
  t.same(await page(app, '?wait_sec=30').then((p) => ids(p.items)), ['1'], 'something to give: no wait')
  t.ok(Date.now() - immediate < 1_000, 'at once')

  const started = Date.now()
  t.same(await page(app, '?after=1&wait_sec=1'), { items: [], next_cursor: '1' }, 'nothing within wait_sec: empty')
  const waited = Date.now() - started
  t.ok(waited >= 950 && waited < 3_000, `waited ${waited} ms for wait_sec=1`)

  const polling = page(app, '?after=1&wait_sec=20')
  await sleep(200)
  const committedAt = Date.now()
  await commitSweep(app.persistence, { terminated: 1 }) // 2, 3
  const woken = await polling
  const latency = Date.now() - committedAt
  t.same([ids(woken.items), woken.next_cursor], [['2', '3'], '3'], 'the commit\'s events')
  t.ok(latency < 1_000, `answered ${latency} ms after the commit`)

  // A commit of other types wakes the wait, which goes on for the type asked.
  const decommissioned = page(app, '?after=3&types=agent.decommissioned&wait_sec=20')
  let answered = false
  decommissioned.then(() => { answered = true }, () => {})
  await sleep(100)
  await commitSweep(app.persistence) // 4: sweep.finished only
  await sleep(300)
  t.notOk(answered, 'a sweep.finished does not answer a wait for agent.decommissioned')
  await commitSweep(app.persistence, { decommissioned: ['a7'] }) // 5 agent.decommissioned; 6 sweep.finished
  t.same(await decommissioned.then((p) => [ids(p.items), p.next_cursor]), [['5'], '5'])
})

t.test('long-poll: a client that leaves, or the server closing, ends the wait', async (t) => {
  const app = await embeddedApp(t)
  const base = await listening(app)
  const signals = recordSignals(t, app.persistence.eventNotifier)

  const leaving = new AbortController()
  const left = request(`${base}/v1/events?wait_sec=30`, { signal: leaving.signal }).catch((error: unknown) => error)
  await until('the wait registered', () => signals.length === 1)
  t.notOk(signals[0]!.aborted)
  leaving.abort()
  t.match(await left, { name: 'AbortError' })
  await until('the wait abandoned', () => signals[0]!.aborted, 2_000)
  t.pass('the server stopped waiting for the client that left')

  const pending = request(`${base}/v1/events?after=0&wait_sec=30`)
  await until('the second wait registered', () => signals.length === 2)
  const closing = Date.now()
  await app.close()
  const answer = await pending
  t.equal(answer.statusCode, 200, 'the wait is answered…')
  t.same(await answer.body.json(), { items: [], next_cursor: '0' }, '…empty')
  t.ok(Date.now() - closing < 2_000, `and the server closed in ${Date.now() - closing} ms`)
})

t.test('GET /v1/events/stream over a real connection', async (t) => {
  const app = await embeddedApp(t)
  const base = await listening(app)
  const p = app.persistence
  const before = await commitSweep(p, { terminated: 1 }) // 1, 2

  await t.test('without a cursor: only new events, as id/event/data frames, in order', async (t) => {
    const client = await StreamClient.open(`${base}/v1/events/stream`)
    t.teardown(() => client.close())
    t.equal(client.status, 200)
    t.match(client.headers['content-type'], /^text\/event-stream/)
    t.equal(client.headers['cache-control'], 'no-cache')
    await until('the opening comment', () => client.comments.length > 0)
    const sweep = await commitSweep(p, { terminated: 2 }) // 3, 4, 5
    const frames = await client.waitForEvents(3)
    t.same(frames.map((frame) => frame.id), ['3', '4', '5'], 'the new events only, in id order')
    t.same(frames.map((frame) => frame.event), ['kernel.terminated', 'kernel.terminated', 'sweep.finished'])
    const listed = (await page(app, '?after=2')).items
    t.same(frames.map((frame) => JSON.parse(frame.data!)), listed, 'each data line is the CloudEvent that GET /v1/events lists')
    t.match(JSON.parse(frames[2]!.data!), { subject: sweep.sweep.sweepId, data: { terminated: 2 } })
  })

  await t.test('after, and Last-Event-ID which wins over it; a types filter', async (t) => {
    const fromStart = await StreamClient.open(`${base}/v1/events/stream?after=0`)
    t.teardown(() => fromStart.close())
    t.same((await fromStart.waitForEvents(5)).map((frame) => frame.id), ['1', '2', '3', '4', '5'])
    t.equal(JSON.parse(fromStart.events[0]!.data!).subject, before.kernels[0]!.id)

    const resumed = await StreamClient.open(`${base}/v1/events/stream?after=0`, { 'last-event-id': '3' })
    t.teardown(() => resumed.close())
    t.same((await resumed.waitForEvents(2)).map((frame) => frame.id), ['4', '5'], 'after Last-Event-ID')

    const finished = await StreamClient.open(`${base}/v1/events/stream?after=0&types=sweep.finished,agent.decommissioned`)
    t.teardown(() => finished.close())
    t.same((await finished.waitForEvents(2)).map((frame) => frame.id), ['2', '5'])

    await commitSweep(p, { terminated: 1, decommissioned: ['a1'] }) // 6 terminated, 7 decommissioned, 8 finished
    t.same((await fromStart.waitForEvents(8)).map((frame) => frame.id), ['1', '2', '3', '4', '5', '6', '7', '8'], 'then live')
    t.same((await resumed.waitForEvents(5)).map((frame) => frame.id), ['4', '5', '6', '7', '8'])
    t.same((await finished.waitForEvents(4)).map((frame) => [frame.id, frame.event]),
      [['2', 'sweep.finished'], ['5', 'sweep.finished'], ['7', 'agent.decommissioned'], ['8', 'sweep.finished']])
  })

  await t.test('a reader far behind catches up page by page, in order', async (t) => {
    const last = Number(await p.events.lastId())
    const client = await StreamClient.open(`${base}/v1/events/stream?after=${last}`)
    t.teardown(() => client.close())
    await commitSweep(p, { terminated: 2_500 })
    const frames = await client.waitForEvents(2_501, 20_000)
    t.equal(frames.length, 2_501, 'every event once')
    t.ok(frames.every((frame, index) => Number(frame.id) === last + 1 + index), 'in id order, none missing')
    t.equal(frames.at(-1)!.event, 'sweep.finished')
  })

  await t.test('a client that leaves ends its loop', async (t) => {
    const signals = recordSignals(t, p.eventNotifier)
    const client = await StreamClient.open(`${base}/v1/events/stream`)
    await until('the stream waits', () => signals.length > 0)
    const waiting = signals.at(-1)!
    t.notOk(waiting.aborted)
    await client.close()
    await until('the wait abandoned', () => waiting.aborted, 2_000)
    const calls = signals.length
    await commitSweep(p)
    await sleep(200)
    t.equal(signals.length, calls, 'no more reads for the client that left')
  })

  await t.test('closing the server ends every open stream cleanly', async (t) => {
    const clients = await Promise.all([StreamClient.open(`${base}/v1/events/stream`), StreamClient.open(`${base}/v1/events/stream?after=0`)])
    for (const client of clients) t.teardown(() => client.close())
    await until('both streams opened', () => clients.every((client) => client.comments.length > 0))
    const closing = Date.now()
    await app.close()
    t.ok(Date.now() - closing < 2_000, `closed in ${Date.now() - closing} ms`)
    await Promise.all(clients.map((client) => client.ended))
    t.pass('each body ended normally, without an error')
  })
})

t.test('a keep-alive comment whenever the stream has sent none for the interval', async (t) => {
  // The route plugin alone, with a short interval: what buildApp registers, with the plugins it needs.
  // As buildApp: creating the embedded database can take more than Fastify's 10 s on a loaded machine.
  const app = Fastify({ logger: false, pluginTimeout: 60_000 })
  await app.register(validationPlugin)
  await app.register(errorHandlerPlugin, { retryAfterSec: 1 })
  await app.register(persistencePlugin, { settings: { databaseUrl: null, dataDir: 'memory://' } })
  await app.register(authPlugin, { apiToken: null, agentToken: null, agentTokenSecret: null })
  await app.register(eventsRoutes, { keepAliveMs: 100 })
  t.teardown(() => app.close())
  const base = await listening(app)

  const client = await StreamClient.open(`${base}/v1/events/stream`)
  t.teardown(() => client.close())
  const keepAlives = (): number => client.comments.filter((comment) => comment === 'keep-alive').length
  const opened = Date.now()
  await until('three keep-alives', () => keepAlives() >= 3, 2_000)
  const elapsed = Date.now() - opened
  t.ok(elapsed >= 250 && elapsed < 2_000, `three in ${elapsed} ms at 100 ms`)

  // Events flowing do not hold the comments back.
  const counted = keepAlives()
  for (let i = 0; i < 5; i++) {
    await commitSweep(app.persistence)
    await sleep(60)
  }
  t.ok(keepAlives() >= counted + 2, `${keepAlives() - counted} more while events came`)
  t.equal(client.events.length, 5)
  await app.close()
  await client.ended
})

t.test('real Postgres: a commit by another connection wakes the long-poll and the stream', { skip: await skipWithoutPostgres() }, async (t) => {
  const schema = await testDatabase(t)
  const app = await embeddedApp(t, { DATABASE_URL: `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}` })
  const base = await listening(app)
  // Another connection: as another instance of the service would write them.
  const other = schema.open()
  const otherEvents = new EventRepository(other)

  const stream = await StreamClient.open(`${base}/v1/events/stream`)
  t.teardown(() => stream.close())
  await until('the stream opened', () => stream.comments.length > 0)
  const polling = page(app, '?wait_sec=20')
  await sleep(300)
  const committedAt = Date.now()
  const sweep = sweepSummary({ outcome: SweepOutcome.DRY_RUN, dryRun: true })
  await other.transaction((tx) => otherEvents.within(tx).appendSweepEvents(sweep, []))
  const woken = await polling
  t.ok(Date.now() - committedAt < 1_000, `long-poll answered ${Date.now() - committedAt} ms after the commit`)
  t.match(woken, { items: [{ id: '1', type: 'sweep.finished', subject: sweep.sweepId }], next_cursor: '1' })
  t.same((await stream.waitForEvents(1, 1_000)).map((frame) => frame.id), ['1'], 'the stream too')

  t.same(await page(app, '?after=1&wait_sec=1'), { items: [], next_cursor: '1' }, 'and times out empty')
})
