import { Readable } from 'node:stream'
import { KernelTransitionRuns, type KernelTransitionList, type SkippedKernel } from '../domain/results.js'
import type { SweepRecord } from '../domain/sweep.js'

/**
 * The Sweep JSON of contract §3, written as a stream of chunks straight from the record: the same
 * JSON as serializing `sweepToWire(sweep)`, without an object per kernel, a string per kernel, or
 * the whole answer (8.7 MB at 100,000 kernels) in memory at any time. The text goes straight into
 * buffers of about `CHUNK_BYTES`, handed out as they fill, so what a sweep answers costs the heap
 * nothing per kernel.
 */

/** A chunk is handed out once it holds this many bytes: few writes, and never more than a few chunks of an answer in memory. */
const CHUNK_BYTES = 64 * 1024
/** Room past `CHUNK_BYTES`, so the element that fills a chunk still fits in it. */
const SLACK_BYTES = 4 * 1024

/** Fills buffers with JSON text; `take()` hands over what is written so far and starts a new one. */
class JsonWriter {
  #buffer = Buffer.allocUnsafe(CHUNK_BYTES + SLACK_BYTES)
  #used = 0

  get ready (): boolean {
    return this.#used >= CHUNK_BYTES
  }

  /** `ascii`: the caller knows `text` is ASCII, so it is copied byte for byte instead of UTF-8 encoded (several times faster). */
  write (text: string, ascii = false): void {
    // UTF-8 takes at most three bytes per UTF-16 unit: a text this short surely fits. A longer
    // one (an error message, a long reason) grows the buffer to what it needs.
    if (text.length * 3 > this.#buffer.length - this.#used) {
      const needed = this.#used + Buffer.byteLength(text)
      if (needed > this.#buffer.length) {
        const larger = Buffer.allocUnsafe(needed + SLACK_BYTES)
        this.#buffer.copy(larger, 0, 0, this.#used)
        this.#buffer = larger
      }
    }
    this.#used += ascii ? this.#buffer.write(text, this.#used, 'latin1') : this.#buffer.write(text, this.#used)
  }

  take (): Buffer {
    const chunk = this.#buffer.subarray(0, this.#used)
    this.#buffer = Buffer.allocUnsafe(CHUNK_BYTES + SLACK_BYTES)
    this.#used = 0
    return chunk
  }
}

// Kernel ids come from the database's `uuid` type: canonical lower-case hex and dashes, nothing
// to escape. Every other string goes through JSON.stringify.

/** Text that can be written byte for byte (printable ASCII): JSON.stringify escapes control characters but leaves those beyond ASCII as they are. */
const ASCII = /^[ -~]*$/

/** KernelTransitionInfo objects: what a run shares is made once, then per kernel only its id is written. */
function * transitionsJson (out: JsonWriter, list: KernelTransitionList): Generator<Buffer> {
  const { kernelIds, runs } = KernelTransitionRuns.of(list)
  out.write('[')
  let index = 0
  for (const { fromStatus, reason, count } of runs) {
    const shared = `","from_status":${JSON.stringify(fromStatus)},"reason":${JSON.stringify(reason)}}`
    const ascii = ASCII.test(shared)
    for (const end = index + count; index < end; index++) {
      out.write(`${index === 0 ? '{"kernel_id":"' : ',{"kernel_id":"'}${kernelIds[index]!}${shared}`, ascii)
      if (out.ready) yield out.take()
    }
  }
  out.write(']')
}

/** `[…]` of `items`, each written by `writeItem`. */
function * arrayJson<T> (out: JsonWriter, items: Iterable<T>, writeItem: (item: T) => void): Generator<Buffer> {
  out.write('[')
  let first = true
  for (const item of items) {
    if (!first) out.write(',')
    first = false
    writeItem(item)
    if (out.ready) yield out.take()
  }
  out.write(']')
}

function * sweepJson (out: JsonWriter, sweep: SweepRecord): Generator<Buffer> {
  const { successes, failures, skipped } = sweep.result
  out.write(`{"sweep_id":${JSON.stringify(sweep.sweepId)},"scaling_group":${JSON.stringify(sweep.scalingGroup)},` +
    `"handler":${JSON.stringify(sweep.handler)},"dry_run":${sweep.dryRun},"forced":${sweep.forced},` +
    `"outcome":${JSON.stringify(sweep.outcome)},"started_at":"${sweep.startedAt.toISOString()}",` +
    `"finished_at":"${sweep.finishedAt.toISOString()}","result":{"successes":`)
  yield * transitionsJson(out, successes)
  out.write(',"failures":')
  yield * transitionsJson(out, failures)
  out.write('},"terminated":')
  yield * arrayJson(out, sweep.terminated, (kernelId) => { out.write(`"${kernelId}"`) })
  out.write(',"skipped":')
  yield * arrayJson(out, skipped, ({ kernelId, cause, confirmations }: SkippedKernel) => {
    out.write(`{"kernel_id":"${kernelId}","cause":${JSON.stringify(cause)}${confirmations === undefined ? '' : `,"confirmations":${confirmations}`}}`)
  })
  out.write(`,"counts":{"kernels":${successes.length + failures.length},"successes":${successes.length},` +
    `"failures":${failures.length},"terminated":${sweep.terminated.length},"skipped":${skipped.length}},` +
    `"error":${JSON.stringify(sweep.error)}}`)
}

/** One Sweep, as chunks of its JSON (UTF-8). */
export function * sweepJsonChunks (sweep: SweepRecord): Generator<Buffer> {
  const out = new JsonWriter()
  yield * sweepJson(out, sweep)
  yield out.take()
}

/** A SweepList (`{"items": [Sweep…]}`), as chunks of its JSON (UTF-8). */
export function * sweepListJsonChunks (sweeps: Iterable<SweepRecord>): Generator<Buffer> {
  const out = new JsonWriter()
  out.write('{"items":[')
  let first = true
  for (const sweep of sweeps) {
    if (!first) out.write(',')
    first = false
    yield * sweepJson(out, sweep)
  }
  out.write(']}')
  yield out.take()
}

/**
 * What a route sends: a stream, which Fastify pipes to the socket as it is read, skipping its own
 * serializer. Typed as the JSON it carries (`Wire`), so a route keeps the type its schema gives.
 */
export function jsonStream<Wire> (chunks: Iterable<Buffer>): Wire {
  return Readable.from(chunks) as unknown as Wire
}
