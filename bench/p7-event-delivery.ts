// P7 — event delivery: a forced sweep terminates 10,000 kernels (agents in their own process, asked
// in batches) while a Server-Sent Events client, connected before, reads the stream: how long after
// the sweep's answer the last of its 10,000 kernel.terminated events arrives, all in id order. Then
// the long-poll's wake-up: a reader waits in `GET /v1/events?wait_sec=30` and an event is committed
// from another connection; the time from that COMMIT to the reader's answer.
import { randomUUID } from 'node:crypto'
import { sweepSummaryOf } from '../src/domain/events.js'
import { SweepOutcome } from '../src/domain/sweep.js'
import { EventRepository } from '../src/persistence/event-repository.js'
import { PostgresDatabase } from '../src/persistence/postgres-database.js'
import { fmt, median, REDIS_URL, report, scratch, startService, timed } from './support.js'
import { stageTwoWorld } from './stage-two-world.js'

const KERNELS = Number(process.argv[2] ?? 10_000)
const WAKE_UPS = Number(process.argv[3] ?? 50)

interface Frame { readonly id: number, readonly type: string }

/** Reads an SSE stream until `enough` frames of `type` arrived; resolves with them and when the last came. */
async function readStream (url: string, type: string, enough: number, connected: () => void): Promise<{ frames: Frame[], lastAt: number }> {
  const response = await fetch(url, { headers: { accept: 'text/event-stream' } })
  if (response.status !== 200 || response.body === null) throw new Error(`stream answered ${response.status}`)
  connected()
  const frames: Frame[] = []
  const decoder = new TextDecoder()
  let buffer = ''
  const reader = response.body.getReader()
  while (frames.length < enough) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the stream ended after ${frames.length} events`)
    buffer += decoder.decode(value, { stream: true })
    const blocks = buffer.split('\n\n')
    buffer = blocks.pop() ?? ''
    for (const block of blocks) {
      const fields = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':')).map((line) => {
        const colon = line.indexOf(':')
        return [line.slice(0, colon), line.slice(colon + 1).trimStart()]
      }))
      if (fields['event'] === type) frames.push({ id: Number(fields['id']), type })
    }
  }
  const lastAt = performance.now()
  await reader.cancel()
  return { frames, lastAt }
}

function percentile (values: readonly number[], p: number): number {
  const sorted = values.toSorted((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

const s = await scratch()
const service = await startService({ DATABASE_URL: s.databaseUrl, VALKEY_URL: REDIS_URL })
const db = new PostgresDatabase({ connectionString: s.databaseUrl })
try {
  const world = await stageTwoWorld({
    serviceUrl: service.url, scalingGroup: 'events', agentPrefix: 'e', agents: 10, kernels: KERNELS, deadEvery: 1, answerDelayMs: 0, batch: true,
  })
  let connected: () => void = () => {}
  const streaming = new Promise<void>((resolve) => { connected = resolve })
  const stream = readStream(`${service.url}/v1/events/stream`, 'kernel.terminated', KERNELS, connected)
  await streaming
  const { ms: sweepMs, result } = await timed(() => world.sweep({ force: true }))
  const answeredAt = performance.now()
  if (result.sweep.counts.terminated !== KERNELS) throw new Error(`terminated ${result.sweep.counts.terminated}`)
  const { frames, lastAt } = await stream
  const inOrder = frames.every((frame, index) => index === 0 || frame.id > frames[index - 1]!.id)
  if (!inOrder) throw new Error('events out of order')
  await world.fleet.stop()

  // Wake-ups: one reader waiting, one event committed from another connection each time.
  const events = new EventRepository(db)
  const wakeUps: number[] = []
  for (let i = 0; i < WAKE_UPS; i++) {
    const after = await events.lastId()
    let committedAt = 0
    const poll = fetch(`${service.url}/v1/events?after=${after}&wait_sec=30`).then(async (response) => {
      const answeredAt = performance.now()
      const body = await response.json() as { items: unknown[] }
      if (body.items.length === 0) throw new Error('the long-poll answered empty')
      return answeredAt
    })
    await new Promise((resolve) => setTimeout(resolve, 20)) // the reader is waiting
    await db.transaction((tx) => events.within(tx).appendSweepEvents(sweepSummaryOf({
      sweepId: randomUUID(),
      scalingGroup: 'wake',
      handler: 'sweep-stale-kernels',
      dryRun: true,
      forced: false,
      outcome: SweepOutcome.DRY_RUN,
      startedAt: new Date(),
      finishedAt: new Date(),
      result: { successes: [], failures: [], skipped: [] },
      terminated: [],
      error: null,
    }), []))
    committedAt = performance.now()
    wakeUps.push((await poll) - committedAt)
  }
  report('P7 event delivery', {
    'kernels terminated by one sweep': KERNELS,
    sweep: fmt(sweepMs),
    'last kernel.terminated event after the answer': fmt(lastAt - answeredAt),
    'events received, in id order': `${frames.length}, ${inOrder ? 'yes' : 'no'}`,
    'long-poll wake-up after a commit, median': `${median(wakeUps).toFixed(1)} ms`,
    'long-poll wake-up after a commit, p99': `${percentile(wakeUps, 99).toFixed(1)} ms`,
    'wake-ups measured': WAKE_UPS,
  })
} finally {
  await db.close()
  await service.stop()
  await s.drop()
}
