import { once } from 'node:events'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { Client, request } from 'undici'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

/*
 * Issue 15, item 3: header, body and idle timeouts, on real sockets. A client that drips its
 * headers or its body is answered 408 and cut off within the configured bound; an idle keep-alive
 * connection is closed; an answer that takes longer than all of them (a long-poll, the event
 * stream) is not cut.
 */

const HEADERS_MS = 400
const REQUEST_MS = 800
const IDLE_MS = 600
// Node checks for expired requests every tenth of the shorter timeout; the rest is a loaded machine.
const SLACK_MS = 1_000

const app = await buildApp(loadConfig({
  DATA_DIR: 'memory://',
  SWEEP_INTERVAL_SEC: '0',
  HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
  HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
  HTTP_IDLE_TIMEOUT_MS: String(IDLE_MS),
}), { logger: false })
t.teardown(() => app.close())
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as AddressInfo
const base = `http://127.0.0.1:${port}`

/** A raw connection: what it received, and when (ms after opening) the server closed it. */
interface Connection {
  readonly socket: Socket
  readonly opened: number
  readonly closed: Promise<number>
  received (): string
}

async function open (): Promise<Connection> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const opened = performance.now()
  let text = ''
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('utf8') })
  socket.on('error', () => {}) // a write after the server closed: what a dripping client gets
  const closed = once(socket, 'close').then(() => performance.now() - opened)
  return { socket, opened, closed, received: () => text }
}

/** Writes `piece()` every `everyMs` until the server closes the connection. */
async function drip (connection: Connection, everyMs: number, piece: (i: number) => string): Promise<number> {
  for (let i = 0; !connection.socket.destroyed && i < 1_000; i++) {
    connection.socket.write(piece(i))
    await sleep(everyMs)
  }
  return connection.closed
}

function problemOf (raw: string): { status: number, headers: string, body: Record<string, unknown> } {
  const [head = '', body = ''] = raw.split('\r\n\r\n')
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) as Record<string, unknown> }
}

t.test('headers dripped a line at a time: 408 and closed once the headers timeout passes', async (t) => {
  const connection = await open()
  connection.socket.write('GET /healthz HTTP/1.1\r\nHost: sweeper\r\n')
  const closedAfter = await drip(connection, 50, (i) => `X-Drip-${i}: ${i}\r\n`)
  t.ok(closedAfter >= HEADERS_MS - 50 && closedAfter < HEADERS_MS + SLACK_MS, `closed after ${Math.round(closedAfter)} ms`)
  const answer = problemOf(connection.received())
  t.equal(answer.status, 408)
  t.match(answer.headers, /content-type: application\/problem\+json/)
  t.match(answer.headers, /x-content-type-options: nosniff/)
  t.match(answer.headers, /connection: close/)
  t.match(answer.body, { type: 'bad-request', title: 'Request Timeout', status: 408, detail: new RegExp(`headers within ${HEADERS_MS} ms`) })
})

t.test('a body dripped a byte at a time: 408 and closed once the request timeout passes', async (t) => {
  const connection = await open()
  connection.socket.write('POST /v1/agents/a1/presence HTTP/1.1\r\nHost: sweeper\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n')
  const closedAfter = await drip(connection, 50, () => ' ')
  t.ok(closedAfter >= REQUEST_MS - 50 && closedAfter < REQUEST_MS + SLACK_MS, `closed after ${Math.round(closedAfter)} ms`)
  const answer = problemOf(connection.received())
  t.equal(answer.status, 408)
  t.match(answer.body, { status: 408, detail: new RegExp(`all of it within ${REQUEST_MS} ms`) })
})

t.test('a slow body that arrives within the request timeout is read and answered', async (t) => {
  const body = '{"kernels":{"6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30":true}}'
  const connection = await open()
  connection.socket.write(`POST /v1/agents/a1/presence HTTP/1.1\r\nHost: sweeper\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`)
  for (const piece of [body.slice(0, 20), body.slice(20, 40), body.slice(40)]) {
    await sleep(REQUEST_MS / 5)
    connection.socket.write(piece)
  }
  while (!connection.received().includes('\r\n\r\n')) await sleep(10)
  t.match(connection.received(), /^HTTP\/1\.1 204 /)
  connection.socket.destroy()
})

// Node closes an idle connection 1 s after the timeout it announces (`Keep-Alive: timeout=`), so
// that a client honouring the announcement never sends on a connection being closed.
t.test('an idle keep-alive connection is closed after the idle timeout', async (t) => {
  const connection = await open()
  connection.socket.write('GET /healthz HTTP/1.1\r\nHost: sweeper\r\n\r\n')
  while (!connection.received().includes('{"status":"ok"}')) await sleep(5)
  const answered = performance.now() - connection.opened
  t.match(connection.received(), /^HTTP\/1\.1 200 /)
  const idle = await connection.closed - answered
  t.ok(idle >= IDLE_MS - 50 && idle < IDLE_MS + 1_000 + SLACK_MS, `closed ${Math.round(idle)} ms after the answer`)
})

t.test('answers longer than every timeout are not cut: a long-poll and the event stream', async (t) => {
  const waitSec = Math.ceil((Math.max(HEADERS_MS, REQUEST_MS, IDLE_MS) + 500) / 1000)
  const connection = new Client(base)
  t.teardown(() => connection.close())
  const started = performance.now()
  const poll = await request(`${base}/v1/events?after=0&wait_sec=${waitSec}`, { dispatcher: connection })
  t.equal(poll.statusCode, 200)
  t.same(await poll.body.json(), { items: [], next_cursor: '0' })
  const waited = performance.now() - started
  t.ok(waited >= waitSec * 1000 - 50, `the long-poll waited its ${waitSec} s (${Math.round(waited)} ms)`)

  const streaming = new Client(base)
  t.teardown(() => streaming.close())
  const stream = await request(`${base}/v1/events/stream`, { dispatcher: streaming, bodyTimeout: 0 })
  t.equal(stream.statusCode, 200)
  await sleep(waitSec * 1000)
  const sweep = await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: { dry_run: true } })
  t.equal(sweep.statusCode, 201)
  let text = ''
  for await (const chunk of stream.body as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8')
    if (/event: sweep\.finished\n.*\n\n/.test(text)) break
  }
  t.match(text, /event: sweep\.finished/, `after ${waitSec} s of silence, the stream still carries the next event`)
})
