import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { access, readFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { connect, createServer, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import t, { type Test } from 'tap'
import { request, type Dispatcher } from 'undici'
import { parse } from 'yaml'
import { SweepOutcome } from '../../src/domain/sweep.js'
import { agentToken } from '../../src/domain/agent-token.js'
import { EventRepository } from '../../src/persistence/event-repository.js'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'
import { freePort, OwnRedisServer, skipWithoutRedis } from '../helpers/redis.js'
import { startScriptedAgent } from '../helpers/scripted-agent.js'
import { startServerProcess } from '../helpers/server-process.js'

/*
 * Issue 11, item 2 (the Prism half): `prism proxy --errors openapi.yaml <service>` in front of the
 * built service — real PostgreSQL (a database of its own, reached through a TCP relay this test can
 * cut), a redis-server of its own, API_TOKEN set, scripted agents on real sockets — and a scripted
 * session that calls every operation of openapi.yaml, with its error answers, and expects Prism to
 * find nothing to say: no `sl-violations` header, and every answer the service's own.
 *
 * Prism validates requests as well as responses, and a request the document forbids never reaches
 * the service through `prism proxy --errors`: Prism answers it itself (422 UNPROCESSABLE_ENTITY
 * for a schema, parameter or content-type violation; 401 UNAUTHORIZED without an Authorization
 * header). Those are *request* violations, which is what such a request is; they say nothing about
 * the service. So every deliberately bad request is sent twice:
 *   1. through the strict proxy (`--errors`), asserting that Prism refused it itself with a request
 *      violation (never a response violation, `#VIOLATIONS`), and
 *   2. through a second proxy, `--errors --validate-request=false`, which forwards it to the service
 *      and still validates the service's answer against the document (`--errors` makes any
 *      response violation a 500 `#VIOLATIONS`; warnings, such as an undocumented 4xx, still show in
 *      `sl-violations`). So the service's 400/413/414/415 are checked by Prism itself.
 * Three kinds of request cannot reach the service through either proxy, because Prism's own HTTP
 * layer handles them before validation: a missing Authorization header (Prism's security check
 * cannot be turned off: its own 401), a body that is not JSON (Prism's body parser answers
 * `400 {"error":{"code":"invalid_json"}}`), and a JSON object with a repeated key (Prism parses it,
 * the last value wins, and forwards the re-serialised, unambiguous body — the service never sees
 * the repetition). Those go to the service directly, and its answer is checked here against the
 * document with Ajv (status documented, media type, body against the response schema) — the same
 * check, applied as a second opinion, to every answer that comes through Prism as well. A fourth
 * kind reaches the service but not reliably back: a 413 for a body over 8 MiB (see that test). And
 * one answer never comes back through Prism whole: the 200 of `GET /v1/events/stream`, a stream
 * that does not end, which the proxy would wait for to check. It is read directly, up to the events
 * it should carry, and checked with Ajv; the stream's refusals (400, 401, 410, 503) go through Prism.
 *
 * A third proxy of the same document, in front of a stand-in that breaks it, shows that Prism as
 * run here does report violations, so that the 0 above is not the silence of a proxy that checks
 * nothing. The session ends by taking the stores away (503s) and by asserting that every operation
 * of openapi.yaml was called through the strict proxy and every status it documents was produced
 * (but 500), so that an operation or a status added to the document without a call here fails.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DOCUMENT = `${ROOT}openapi.yaml`
const PRISM = `${ROOT}node_modules/.bin/prism`
const PRISM_ERRORS = 'https://stoplight.io/prism/errors#'
const TOKEN = 'prism-session-token'
const AGENT_TOKEN_SECRET = 'prism-agent-token-secret'
const OTHER_AGENT = 'pa-other'
const MiB = 1024 * 1024
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']

/** Statuses the document lists that nothing from outside can produce, and why. */
const NOT_PRODUCIBLE: Record<string, string> = {
  500: 'a fault of the service: nothing from outside produces one without breaking the service itself',
}

interface ResponseDoc { headers?: Record<string, unknown>, content?: Record<string, { schema?: unknown }> }
interface OperationDoc { operationId?: string, responses: Record<string, ResponseDoc> }
interface OpenApiDocument { paths: Record<string, Record<string, OperationDoc>> }

interface Operation {
  readonly key: string
  readonly method: string
  readonly template: RegExp
  readonly doc: OperationDoc
}

type Via = 'prism' | 'lenient' | 'direct'

/** One request of the session; `op` is `METHOD /template` as openapi.yaml spells it. */
interface Req {
  readonly op: string
  readonly path: string
  /** The right bearer token (default), a wrong one, or no Authorization header. */
  /** `agent`: the agent token of `OTHER_AGENT`, good for that agent's own routes only. */
  readonly auth?: 'token' | 'wrong' | 'none' | 'agent'
  readonly headers?: Record<string, string>
  /** Sent as `JSON.stringify` makes it: Prism re-serialises JSON bodies the same way. */
  readonly json?: unknown
  readonly raw?: { readonly contentType: string, readonly body: string }
}

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly text: string
  readonly body: any
}

interface Violation { readonly via: Via, readonly request: string, readonly status: number, readonly prism: string, readonly answer: string }
interface Refusal { readonly request: string, readonly what: string, readonly prism: string }

function dispatch (base: string, method: string, req: Req): Promise<Dispatcher.ResponseData> {
  const headers: Record<string, string> = { ...req.headers }
  const auth = req.auth ?? 'token'
  if (auth === 'token') headers['authorization'] = `Bearer ${TOKEN}`
  if (auth === 'wrong') headers['authorization'] = 'Bearer not-the-token'
  if (auth === 'agent') headers['authorization'] = `Bearer ${agentToken(AGENT_TOKEN_SECRET, OTHER_AGENT)}`
  let body: string | undefined
  if (req.json !== undefined) {
    body = JSON.stringify(req.json)
    headers['content-type'] = 'application/json'
  }
  if (req.raw !== undefined) {
    body = req.raw.body
    headers['content-type'] = req.raw.contentType
  }
  return request(`${base}${req.path}`, {
    method: method as Dispatcher.HttpMethod,
    headers,
    ...(body === undefined ? {} : { body }),
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  })
}

function flatHeaders (headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

async function send (base: string, method: string, req: Req): Promise<Answer> {
  const response = await dispatch(base, method, req)
  const text = await response.body.text()
  const flat = flatHeaders(response.headers)
  let parsed: unknown = text
  if (/json/.test(flat['content-type'] ?? '') && text !== '') {
    try { parsed = JSON.parse(text) } catch { parsed = text }
  }
  return { status: response.statusCode, headers: flat, text, body: parsed }
}

/** The complete Server-Sent Events frames of `text` that carry an event (comments left out). */
function eventFrames (text: string): Array<Record<string, string>> {
  return text.split('\n\n').slice(0, -1).filter((block) => block.startsWith('id: ')).map((block) =>
    Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])))
}

/** An event stream's answer, read until it has given `count` events (it never ends by itself), then left. */
async function sendForEvents (base: string, method: string, req: Req, count: number): Promise<Answer> {
  const response = await dispatch(base, method, req)
  let text = ''
  for await (const chunk of response.body) {
    text += (chunk as Buffer).toString('utf8')
    if (eventFrames(text).length >= count) break
  }
  return { status: response.statusCode, headers: flatHeaders(response.headers), text, body: text }
}

/** An HTTP/1.1 request over a socket of its own that declares a body of `length` bytes and sends none. */
async function announceBody (base: string, method: string, path: string, length: number): Promise<Answer> {
  const url = new URL(base)
  const socket = connect(Number(url.port), url.hostname)
  socket.setTimeout(10_000)
  try {
    await once(socket, 'connect')
    socket.write(`${method} ${path} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${TOKEN}\r\n` +
      `content-type: application/json\r\ncontent-length: ${length}\r\n\r\n`)
    let received = Buffer.alloc(0)
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      received = Buffer.concat([received, chunk])
      const end = received.indexOf('\r\n\r\n')
      if (end < 0) continue
      const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n')
      const headers = Object.fromEntries(lines.map((line) => {
        const colon = line.indexOf(':')
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]
      }))
      const bodyLength = Number(headers['content-length'] ?? NaN)
      if (Number.isNaN(bodyLength) || received.length < end + 4 + bodyLength) continue
      const text = received.subarray(end + 4, end + 4 + bodyLength).toString('utf8')
      let body: unknown = text
      try { body = JSON.parse(text) } catch { body = text }
      return { status: Number(statusLine.split(' ')[1]), headers, text, body }
    }
    throw new Error(`${method} ${path}: the connection ended before a whole answer (${received.length} bytes)`)
  } finally {
    socket.destroy()
  }
}

/** Prism's own answers: its problem types, or its body parser's `{"error": {"code": …}}`. */
function prismAnswered (answer: Answer): string | null {
  const body = answer.body as { type?: unknown, error?: { code?: unknown } } | string
  if (typeof body !== 'object' || body === null) return null
  if (typeof body.type === 'string' && body.type.startsWith(PRISM_ERRORS)) return body.type.slice(PRISM_ERRORS.length)
  // An upstream failure (`FetchError`: refused, reset, EPIPE) comes back as a problem named after the error.
  if (typeof body.type === 'string' && /^[A-Z]\w*Error$/.test(body.type)) return `upstream failure: ${body.type}`
  if (typeof body.error?.code === 'string') return `body parser: ${body.error.code}`
  return null
}

function short (text: string, length = 300): string {
  return text.length > length ? `${text.slice(0, length)}… (${text.length} chars)` : text
}

/** The document as Ajv sees it: OpenAPI 3.1 schemas are JSON Schema 2020-12. */
class DocumentCheck {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true })
  private readonly compiled = new Map<string, ValidateFunction>()

  constructor (document: OpenApiDocument) {
    addFormats.default(this.ajv)
    this.ajv.addSchema(document as object, 'openapi')
  }

  /** What is wrong with this answer by the document; empty when nothing is. */
  problems (operation: Operation, answer: Answer): string[] {
    const response = operation.doc.responses[String(answer.status)]
    if (response === undefined) return [`status ${answer.status} is not documented (${Object.keys(operation.doc.responses).join(', ')})`]
    if (response.content === undefined) return answer.text === '' ? [] : ['a body where the document describes none']
    const mediaType = (answer.headers['content-type'] ?? '').split(';')[0]!.trim()
    const entry = response.content[mediaType]
    if (entry === undefined) return [`media type "${mediaType}" is not one of ${Object.keys(response.content).join(', ')}`]
    if (entry.schema === undefined) return []
    const key = `${operation.key} ${answer.status} ${mediaType}`
    let validate = this.compiled.get(key)
    if (validate === undefined) {
      validate = this.ajv.compile(rebase(entry.schema) as object)
      this.compiled.set(key, validate)
    }
    if (validate(answer.body)) return []
    return (validate.errors ?? []).map((error) => `body${error.instancePath} ${error.message ?? 'is invalid'}`)
  }
}

/** A response schema with its `#/components/…` references pointed at the document Ajv holds. */
function rebase (schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase)
  if (typeof schema !== 'object' || schema === null) return schema
  return Object.fromEntries(Object.entries(schema).map(([name, value]) =>
    [name, name === '$ref' && typeof value === 'string' && value.startsWith('#') ? `openapi${value}` : rebase(value)]))
}

function operationsOf (document: OpenApiDocument): Map<string, Operation> {
  const operations = new Map<string, Operation>()
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, doc] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue
      const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/?]+')
      const key = `${method.toUpperCase()} ${path}`
      operations.set(key, { key, method: method.toUpperCase(), template: new RegExp(`^${pattern}$`), doc })
    }
  }
  return operations
}

/** A process of `prism proxy`; killed at teardown. */
async function startPrism (t: Test, upstream: string, extra: string[]): Promise<{ url: string, output: string[] }> {
  const port = await freePort()
  const output: string[] = []
  // `-v warn`: Prism's info log prints every request with its body, which costs seconds for the 8 MiB ones.
  const child: ChildProcess = spawn(PRISM, ['proxy', '--errors', ...extra, '-p', String(port), '-h', '127.0.0.1', '-v', 'warn', DOCUMENT, upstream], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const keep = (chunk: Buffer): void => {
    output.push(...chunk.toString('utf8').split('\n').filter((line) => line.trim() !== ''))
    output.splice(0, Math.max(0, output.length - 200))
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await once(child, 'exit')
  })
  const until = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prism exited with ${child.exitCode}: ${output.join('\n')}`)
    const listening = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => { resolve(false) })
    })
    if (listening) return { url: `http://127.0.0.1:${port}`, output }
    if (Date.now() > until) throw new Error(`prism did not listen within 30 s: ${output.join('\n')}`)
    await sleep(100)
  }
}

/**
 * A stand-in upstream that answers what the document forbids — a /healthz body outside its schema,
 * a /readyz status the document does not list — so the test sees Prism's checks bite.
 */
async function startLyingUpstream (t: Test): Promise<string> {
  const server = createHttpServer((request, response) => {
    if (request.url === '/healthz') response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"sick"}')
    else if (request.url === '/readyz') response.writeHead(418, { 'content-type': 'application/json' }).end('{"status":"ok","checks":{"database":"ok","presence":"ok"}}')
    else response.writeHead(404).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => { resolve() })
  }))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return `http://127.0.0.1:${address.port}`
}

/** A TCP relay to PostgreSQL, so the test can take the database away from the service (503). */
async function databaseRelay (t: Test, target: { host: string, port: number }): Promise<{ port: number, cut: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    sockets.add(client)
    sockets.add(upstream)
    const drop = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  let cut: Promise<void> | undefined
  const cutOnce = (): Promise<void> => {
    cut ??= new Promise<void>((resolve) => {
      server.close(() => { resolve() })
      for (const socket of sockets) socket.destroy()
    })
    return cut
  }
  t.teardown(cutOnce)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no relay port')
  return { port: address.port, cut: cutOnce }
}

async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: nothing within ${ms} ms`)) }, ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The scripted session: every call, what it was checked against, and what was covered. */
class Session {
  readonly coverage = new Map<string, Map<number, Set<Via>>>()
  readonly violations: Violation[] = []
  readonly refusals: Refusal[] = []
  calls = 0

  constructor (
    private readonly operations: Map<string, Operation>,
    private readonly check: DocumentCheck,
    private readonly bases: Record<Via, string>
  ) {}

  private operation (req: Req): Operation {
    const operation = this.operations.get(req.op)
    if (operation === undefined) throw new Error(`${req.op} is not an operation of openapi.yaml`)
    const path = req.path.split('?')[0]!
    if (!operation.template.test(path)) throw new Error(`${req.path} is not a path of ${req.op}`)
    return operation
  }

  /**
   * Sends `req` through `via` and checks that the service answered `status` (problem `type`, when
   * given), that Prism reported no violation and did not answer itself, and that the answer is one
   * the document describes.
   */
  async expect (t: Test, via: Via, req: Req, status: number, type?: string): Promise<Answer> {
    const operation = this.operation(req)
    const answer = await send(this.bases[via], operation.method, req)
    return this.verify(t, via, operation, req, answer, status, type)
  }

  /**
   * An event stream's 200, which cannot come through Prism: the proxy reads an answer whole before
   * it checks it, and a stream does not end. So it is read directly up to its `count`-th event, and
   * checked against the document (status, media type, text) like every direct answer.
   */
  async expectEvents (t: Test, req: Req, count: number): Promise<Answer> {
    const operation = this.operation(req)
    const answer = await within(sendForEvents(this.bases.direct, operation.method, req, count), 10_000, `${count} events of ${req.path}`)
    return this.verify(t, 'direct', operation, req, answer, 200, undefined)
  }

  /**
   * Announces a body of `length` bytes to the service directly and sends none of it: the service
   * answers from `Content-Length` alone, so its 413 is read before anything can race it.
   */
  async expectOversized (t: Test, req: Req, length: number, status: number, type: string): Promise<Answer> {
    const operation = this.operation(req)
    const answer = await announceBody(this.bases.direct, operation.method, req.path, length)
    return this.verify(t, 'direct', operation, { ...req, path: `${req.path} (Content-Length: ${length}, no body sent)` }, answer, status, type)
  }

  private verify (t: Test, via: Via, operation: Operation, req: Req, answer: Answer, status: number, type: string | undefined): Answer {
    this.calls++
    const label = `${via}: ${operation.method} ${short(req.path, 90)}${req.auth === undefined ? '' : ` (${req.auth} token)`}`
    t.equal(answer.status, status, `${label} → ${status}`, { body: short(answer.text) })
    if (via !== 'direct') {
      const violations = answer.headers['sl-violations']
      const own = prismAnswered(answer)
      t.equal(violations, undefined, `${label}: Prism reports no violation`)
      t.equal(own, null, `${label}: the answer is the service's own, not Prism's`)
      if (violations !== undefined || own !== null) {
        this.violations.push({
          via,
          request: `${operation.method} ${short(req.path, 90)}${req.json === undefined ? '' : ` ${short(JSON.stringify(req.json), 120)}`}`,
          status: answer.status,
          prism: violations ?? own ?? '',
          answer: short(answer.text, 500),
        })
      }
    }
    t.same(this.check.problems(operation, answer), [], `${label}: the answer is one the document describes`)
    if (type !== undefined) t.equal(answer.body?.type, type, `${label}: problem type ${type}`)
    if (answer.status === status) {
      const statuses = this.coverage.get(operation.key) ?? new Map<number, Set<Via>>()
      this.coverage.set(operation.key, statuses)
      const vias = statuses.get(status) ?? new Set<Via>()
      statuses.set(status, vias)
      vias.add(via)
    }
    return answer
  }

  /**
   * Sends a deliberately bad `req` through the strict proxy and checks that Prism refused it itself
   * with a request violation of `prismType` (never a response violation), without asking the service.
   */
  async prismRefuses (t: Test, req: Req, what: string, status: number, prismType: string): Promise<Answer> {
    const operation = this.operation(req)
    const answer = await send(this.bases.prism, operation.method, req)
    this.calls++
    const label = `prism: ${operation.method} ${short(req.path, 90)} (${what})`
    const own = prismAnswered(answer)
    t.equal(answer.status, status, `${label}: Prism answers ${status} itself`, { body: short(answer.text) })
    t.equal(own, prismType, `${label}: a request violation, ${prismType}`)
    t.not(own, 'VIOLATIONS', `${label}: not a response violation`)
    const details = (answer.body?.validation as Array<{ location?: string[], message?: string }> | undefined)
      ?.map((v) => `${(v.location ?? []).join('.')} ${v.message ?? ''}`.trim()).join('; ')
    this.refusals.push({ request: `${operation.method} ${short(req.path, 60)}`, what, prism: `${answer.status} ${own ?? short(answer.text, 80)}${details === undefined ? '' : ` (${short(details, 140)})`}` })
    return answer
  }

  /** A bad request: Prism's own refusal through the strict proxy, the service's answer through the lenient one. */
  async bad (t: Test, req: Req, what: string, status: number, type: string): Promise<Answer> {
    await this.prismRefuses(t, req, what, 422, 'UNPROCESSABLE_ENTITY')
    return this.expect(t, 'lenient', req, status, type)
  }
}

t.test('prism proxy --errors in front of the real service: every operation, 0 violations', {
  skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()),
}, async (t) => {
  const started = Date.now()
  await access(`${ROOT}dist/src/server.js`).catch(() => { throw new Error('dist/src/server.js is missing: run `npm run build` (npm test does)') })
  const document = parse(await readFile(DOCUMENT, 'utf8')) as OpenApiDocument
  const operations = operationsOf(document)

  // The stores: a database of its own behind a relay, a redis-server of its own.
  const schema = await testDatabase(t, { migrate: false })
  const postgres = new URL(schema.url)
  const relay = await databaseRelay(t, { host: postgres.hostname, port: Number(postgres.port === '' ? 5432 : postgres.port) })
  postgres.hostname = '127.0.0.1'
  postgres.port = String(relay.port)
  postgres.search = `?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`
  const redis = await OwnRedisServer.start(t)
  const agent = await startScriptedAgent(t, 'pa1')
  const slowAgent = await startScriptedAgent(t, 'pa-slow')
  const retiringAgent = await startScriptedAgent(t, 'pa-dec')

  // The service and both proxies start together; Prism needs no upstream to start.
  const servicePort = await freePort()
  const serviceUrl = `http://127.0.0.1:${servicePort}`
  const liar = await startLyingUpstream(t)
  const [service, strict, lenient, canary] = await Promise.all([
    startServerProcess(t, { PORT: String(servicePort), DATABASE_URL: postgres.href, VALKEY_URL: redis.url, API_TOKEN: TOKEN, AGENT_TOKEN_SECRET, AGENT_RPC_TIMEOUT_MS: '5000' }),
    startPrism(t, serviceUrl, []),
    startPrism(t, serviceUrl, ['--validate-request=false']),
    startPrism(t, liar, []),
  ])
  t.equal(service.url, serviceUrl)
  t.teardown(() => {
    if (t.passing()) return
    t.comment('last lines of the strict proxy:')
    for (const line of strict.output.slice(-40)) t.comment(`  ${line}`)
    t.comment('last lines of the lenient proxy:')
    for (const line of lenient.output.slice(-40)) t.comment(`  ${line}`)
  })
  t.comment(`service, stores and proxies up in ${Date.now() - started} ms`)

  const session = new Session(operations, new DocumentCheck(document), { prism: strict.url, lenient: lenient.url, direct: service.url })
  const SWEEP = 'POST /v1/scaling-groups/{scaling_group}/sweeps'
  const LIST_AGENTS = 'GET /v1/agents'
  const RECONCILE = 'POST /v1/agents/{agent_id}/reconcile'
  const DECOMMISSION = 'POST /v1/agents/{agent_id}/decommission'
  const G = 'prism-g'
  const SLOW = 'prism-slow'
  const SESSION_ID = randomUUID()
  const kernel = { alive: randomUUID(), dead: randomUUID(), erring: randomUUID(), orphan: randomUUID(), slow: randomUUID(), fresh: randomUUID(), unknown: randomUUID() }
  // The kernels of pa-dec, the agent decommissioned by the session.
  const retiring = { running: randomUUID(), preparing: randomUUID() }
  const running = (group: string, agentId: string | null) => ({ session_id: SESSION_ID, scaling_group: group, agent_id: agentId, status: 'RUNNING' })
  let completed = ''

  // Zero violations means something only if Prism, as run here, reports the ones there are.
  await t.test('Prism\'s checks bite: the same document in front of an upstream that breaks it', async (t) => {
    const wrongBody = await send(canary.url, 'GET', { op: 'GET /healthz', path: '/healthz', auth: 'none' })
    t.equal(wrongBody.status, 500, 'a body outside the schema: Prism answers 500 itself')
    t.equal(prismAnswered(wrongBody), 'VIOLATIONS', 'as a response violation')
    t.match(wrongBody.headers['sl-violations'], /"location":\["response","body","status"\]/, 'named in sl-violations')
    const undocumented = await send(canary.url, 'GET', { op: 'GET /readyz', path: '/readyz', auth: 'none' })
    t.equal(undocumented.status, 418, 'an undocumented 4xx is passed on (a warning, not an error)…')
    t.match(undocumented.headers['sl-violations'], /Unable to match the returned status code/, '…and reported in sl-violations')
  })

  await t.test('probes, open without a token', async (t) => {
    t.match((await session.expect(t, 'prism', { op: 'GET /healthz', path: '/healthz', auth: 'none' }, 200)).body, { status: 'ok' })
    t.match((await session.expect(t, 'prism', { op: 'GET /readyz', path: '/readyz', auth: 'none' }, 200)).body, { status: 'ok', checks: { database: 'ok', presence: 'ok' } })
    t.match((await session.expect(t, 'prism', { op: 'GET /metrics', path: '/metrics', auth: 'none' }, 200)).text, /^# HELP /m)
  })

  await t.test('agents', async (t) => {
    const registered = await session.expect(t, 'prism', { op: 'PUT /v1/agents/{agent_id}', path: '/v1/agents/pa1', json: { address: agent.url, scaling_group: G } }, 200)
    t.match(registered.body, { agent_id: 'pa1', address: agent.url, scaling_group: G })
    await session.expect(t, 'prism', { op: 'PUT /v1/agents/{agent_id}', path: '/v1/agents/pa-slow', json: { address: slowAgent.url, scaling_group: SLOW } }, 200)
    t.same((await session.expect(t, 'prism', { op: 'GET /v1/agents/{agent_id}', path: '/v1/agents/pa1' }, 200)).body, registered.body)
    await session.expect(t, 'prism', { op: 'GET /v1/agents/{agent_id}', path: '/v1/agents/nobody' }, 404, 'not-found')
  })

  await t.test('kernels: create, read, preconditions, bulk, lists', async (t) => {
    const path = `/v1/kernels/${kernel.alive}`
    const created = await session.expect(t, 'prism', { op: 'PUT /v1/kernels/{kernel_id}', path, json: running(G, 'pa1') }, 200)
    t.match(created.body, { kernel_id: kernel.alive, status: 'RUNNING', version: 1 })
    t.equal(created.headers['etag'], '"1"', 'ETag of the new kernel')
    const read = await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}', path }, 200)
    t.equal(read.headers['etag'], '"1"', 'ETag on GET')
    const replaced = await session.expect(t, 'prism', { op: 'PUT /v1/kernels/{kernel_id}', path, headers: { 'if-match': '"1"' }, json: running(G, 'pa1') }, 200)
    t.equal(replaced.headers['etag'], `"${String(replaced.body.version)}"`, 'ETag after a PUT with a matching If-Match')
    await session.expect(t, 'prism', { op: 'PUT /v1/kernels/{kernel_id}', path, headers: { 'if-match': '"99"' }, json: running(G, 'pa1') }, 412, 'precondition-failed')
    await session.expect(t, 'prism', { op: 'PUT /v1/kernels/{kernel_id}', path: `/v1/kernels/${kernel.fresh}`, headers: { 'if-match': '"1"' }, json: running(G, 'pa1') }, 412, 'precondition-failed')

    const bulk = await session.expect(t, 'prism', {
      op: 'PUT /v1/kernels',
      path: '/v1/kernels',
      json: {
        kernels: [
          { kernel_id: kernel.dead, ...running(G, 'pa1') }, { kernel_id: kernel.erring, ...running(G, 'pa1') },
          { kernel_id: kernel.orphan, ...running(G, null) }, { kernel_id: kernel.slow, ...running(SLOW, 'pa-slow') },
        ],
      },
    }, 200)
    t.same(bulk.body, { upserted: 4 })
    await session.expect(t, 'prism', { op: 'PUT /v1/kernels', path: '/v1/kernels', json: { kernels: [{ kernel_id: kernel.alive, ...running(G, 'pa1'), expected_version: 99 }] } }, 412, 'precondition-failed')
    // A rule the document cannot state (no repeated kernel id), so the request passes Prism's validation.
    await session.expect(t, 'prism', { op: 'PUT /v1/kernels', path: '/v1/kernels', json: { kernels: [{ kernel_id: kernel.fresh, ...running(G, null) }, { kernel_id: kernel.fresh, ...running(G, null) }] } }, 400, 'validation-error')

    const all = await session.expect(t, 'prism', { op: 'GET /v1/kernels', path: '/v1/kernels' }, 200)
    t.equal(all.body.items.length, 5, 'no limit: every kernel')
    const page = await session.expect(t, 'prism', { op: 'GET /v1/kernels', path: `/v1/kernels?scaling_group=${G}&status=RUNNING&limit=2` }, 200)
    t.equal(page.body.items.length, 2)
    t.type(page.body.next_cursor, 'string', 'a next page')
    const next = await session.expect(t, 'prism', { op: 'GET /v1/kernels', path: `/v1/kernels?scaling_group=${G}&status=RUNNING&limit=2&cursor=${encodeURIComponent(String(page.body.next_cursor))}` }, 200)
    t.equal(next.body.items.length, 2, 'the second page')
    // Also a string the document allows: only the service can tell it is not one of its cursors.
    await session.expect(t, 'prism', { op: 'GET /v1/kernels', path: '/v1/kernels?cursor=garbage' }, 400, 'validation-error')
  })

  await t.test('heartbeats and presence', async (t) => {
    const written = await session.expect(t, 'prism', { op: 'POST /v1/agents/{agent_id}/presence', path: '/v1/agents/pa1/presence', json: { kernels: { [kernel.alive]: true } } }, 204)
    t.equal(written.text, '', 'no body')
    t.match((await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}/presence', path: `/v1/kernels/${kernel.alive}/presence` }, 200)).body, { kernel_id: kernel.alive, presence: 'ALIVE' })
    t.match((await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}/presence', path: `/v1/kernels/${kernel.dead}/presence` }, 200)).body, { presence: null, last_presence: null })
    await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}/presence', path: `/v1/kernels/${kernel.unknown}/presence` }, 404, 'not-found')
  })

  await t.test('sweeps: dry run, a sweep with no body, read back, history', async (t) => {
    agent.answers.set(kernel.erring, 'error')
    const sweeps = `/v1/scaling-groups/${G}/sweeps`
    const dry = await session.expect(t, 'prism', { op: SWEEP, path: sweeps, json: { dry_run: true } }, 201)
    t.match(dry.body, { outcome: 'dry_run', dry_run: true, terminated: [] })
    t.equal(dry.headers['location'], `/v1/sweeps/${String(dry.body.sweep_id)}`, 'Location')
    // The document makes the body optional: a sweep with none at all.
    const sweep = await session.expect(t, 'prism', { op: SWEEP, path: sweeps }, 201)
    t.match(sweep.body, { outcome: 'completed', dry_run: false, forced: false, terminated: [kernel.dead], counts: { kernels: 4, terminated: 1, skipped: 2 } })
    t.same([...sweep.body.skipped].sort((a: { cause: string }, b: { cause: string }) => a.cause.localeCompare(b.cause)),
      [{ kernel_id: kernel.erring, cause: 'agent_error' }, { kernel_id: kernel.orphan, cause: 'no_agent' }])
    t.equal(sweep.headers['location'], `/v1/sweeps/${String(sweep.body.sweep_id)}`, 'Location')
    completed = String(sweep.body.sweep_id)

    t.same((await session.expect(t, 'prism', { op: 'GET /v1/sweeps/{sweep_id}', path: `/v1/sweeps/${completed}` }, 200)).body, sweep.body, 'read back as answered')
    t.ok((await session.expect(t, 'prism', { op: 'GET /v1/sweeps', path: '/v1/sweeps' }, 200)).body.items.length >= 2, 'no limit')
    t.match((await session.expect(t, 'prism', { op: 'GET /v1/sweeps', path: `/v1/sweeps?scaling_group=${G}&limit=1` }, 200)).body, { items: [{ sweep_id: completed }] })
    await session.expect(t, 'prism', { op: 'GET /v1/sweeps/{sweep_id}', path: `/v1/sweeps/${randomUUID()}` }, 404, 'not-found')

    const dead = await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}', path: `/v1/kernels/${kernel.dead}` }, 200)
    t.match(dead.body, { status: 'TERMINATED', status_info: 'STALE_KERNEL', version: 2 })
    t.equal(dead.headers['etag'], '"2"')
    t.match((await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}/history', path: `/v1/kernels/${kernel.dead}/history` }, 200)).body,
      { items: [{ from_status: 'RUNNING', to_status: 'TERMINATED', reason: 'STALE_KERNEL', sweep_id: completed }] })
    await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}/history', path: `/v1/kernels/${kernel.unknown}/history` }, 404, 'not-found')
    await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}', path: `/v1/kernels/${kernel.unknown}` }, 404, 'not-found')
  })

  await t.test('a second sweep while one runs: 409 with Retry-After', async (t) => {
    let asked: () => void = () => {}
    const askedOnce = new Promise<void>((resolve) => { asked = resolve })
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => { release = resolve })
    // The agent holds its answer, and so the first sweep holds the group's lock, until released.
    slowAgent.before.set(kernel.slow, async () => {
      asked()
      await released
    })
    const path = `/v1/scaling-groups/${SLOW}/sweeps`
    const first = session.expect(t, 'prism', { op: SWEEP, path }, 201)
    try {
      await within(askedOnce, 10_000, 'the slow agent asked')
      const busy = await session.expect(t, 'prism', { op: SWEEP, path, json: { dry_run: true } }, 409, 'lock-busy')
      t.match(busy.headers['retry-after'], /^\d+$/, 'Retry-After')
      // Decommissioning an agent of that group needs the same lock (a dry run: harmless should it get it).
      const decommissionBusy = await session.expect(t, 'prism', { op: DECOMMISSION, path: '/v1/agents/pa-slow/decommission', json: { dry_run: true } }, 409, 'lock-busy')
      t.match(decommissionBusy.headers['retry-after'], /^\d+$/, 'Retry-After')
    } finally {
      release()
    }
    t.match((await first).body, { outcome: 'completed', terminated: [kernel.slow] })
  })

  await t.test('agents: list, reconcile, decommission', async (t) => {
    // pa-dec, in G, with two kernels in non-final statuses of their own (after the sweeps of G above,
    // so their counts are not changed).
    await session.expect(t, 'prism', { op: 'PUT /v1/agents/{agent_id}', path: '/v1/agents/pa-dec', json: { address: retiringAgent.url, scaling_group: G } }, 200)
    t.same((await session.expect(t, 'prism', {
      op: 'PUT /v1/kernels',
      path: '/v1/kernels',
      json: {
        kernels: [
          { kernel_id: retiring.running, ...running(G, 'pa-dec') },
          { kernel_id: retiring.preparing, ...running(G, 'pa-dec'), status: 'PREPARING' },
        ],
      },
    }, 200)).body, { upserted: 2 })
    const retiringIds = [retiring.running, retiring.preparing].sort()

    // Lists: everything, pages of 2 (id order is the database's collation: only the pages' sum is asserted), filters.
    const all = await session.expect(t, 'prism', { op: LIST_AGENTS, path: '/v1/agents' }, 200)
    const ids = (all.body.items as Array<{ agent_id: string }>).map((item) => item.agent_id)
    t.same([...ids].sort(), ['pa-dec', 'pa-slow', 'pa1'], 'every agent')
    t.equal(all.body.next_cursor, null, 'one page')
    const first = await session.expect(t, 'prism', { op: LIST_AGENTS, path: '/v1/agents?limit=2' }, 200)
    t.equal(first.body.items.length, 2)
    t.type(first.body.next_cursor, 'string', 'a next page')
    const second = await session.expect(t, 'prism', { op: LIST_AGENTS, path: `/v1/agents?limit=2&cursor=${encodeURIComponent(String(first.body.next_cursor))}` }, 200)
    t.equal(second.body.next_cursor, null, 'the last page')
    t.same([...first.body.items, ...second.body.items].map((item: { agent_id: string }) => item.agent_id), ids, 'the pages add up to the list')
    const inG = await session.expect(t, 'prism', { op: LIST_AGENTS, path: `/v1/agents?scaling_group=${G}&status=ALIVE` }, 200)
    t.same((inG.body.items as Array<{ agent_id: string }>).map((item) => item.agent_id).sort(), ['pa-dec', 'pa1'], 'by group and status')
    // A string the document allows: only the service can tell it is not one of its cursors.
    await session.expect(t, 'prism', { op: LIST_AGENTS, path: '/v1/agents?cursor=garbage' }, 400, 'validation-error')

    // Reconciliation: what pa1 should stop (final, unknown, another agent's), what it does not run (erring).
    const reconciled = await session.expect(t, 'prism', {
      op: RECONCILE,
      path: '/v1/agents/pa1/reconcile',
      json: { kernels: [kernel.alive.toUpperCase(), kernel.dead, kernel.unknown, kernel.slow] },
    }, 200)
    t.same(reconciled.body, { orphans: [kernel.dead, kernel.unknown, kernel.slow], missing: [kernel.erring] }, 'orphans in the order listed, missing')
    t.same((await session.expect(t, 'prism', { op: RECONCILE, path: '/v1/agents/pa-dec/reconcile', json: { kernels: [] } }, 200)).body,
      { orphans: [], missing: retiringIds }, 'an agent that runs nothing misses all its kernels')
    await session.expect(t, 'prism', { op: RECONCILE, path: '/v1/agents/nobody/reconcile', json: { kernels: [] } }, 404, 'not-found')

    // Decommissioning: unknown agent, a dry run that changes nothing, then for real (no body at all).
    await session.expect(t, 'prism', { op: DECOMMISSION, path: '/v1/agents/nobody/decommission', json: { dry_run: true } }, 404, 'not-found')
    const dry = await session.expect(t, 'prism', { op: DECOMMISSION, path: '/v1/agents/pa-dec/decommission', json: { dry_run: true } }, 201)
    t.match(dry.body, { handler: 'decommission-agent', scaling_group: G, dry_run: true, outcome: 'dry_run', terminated: [] })
    t.equal(dry.headers['location'], `/v1/sweeps/${String(dry.body.sweep_id)}`, 'Location')
    t.match((await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}', path: `/v1/kernels/${retiring.running}` }, 200)).body,
      { status: 'RUNNING', version: 1 }, 'the dry run changed nothing')
    t.match((await session.expect(t, 'prism', { op: 'GET /v1/agents/{agent_id}', path: '/v1/agents/pa-dec' }, 200)).body, { status: 'ALIVE' })

    const decommissioned = await session.expect(t, 'prism', { op: DECOMMISSION, path: '/v1/agents/pa-dec/decommission' }, 201)
    t.match(decommissioned.body, {
      handler: 'decommission-agent',
      scaling_group: G,
      dry_run: false,
      forced: false,
      outcome: 'completed',
      error: null,
      result: { successes: [] },
      skipped: [],
      counts: { kernels: 2, successes: 0, failures: 2, terminated: 2, skipped: 0 },
    })
    t.same([...decommissioned.body.terminated].sort(), retiringIds, 'both kernels terminated')
    t.same(retiringAgent.asked, [], 'the agent was never asked')
    t.same([...decommissioned.body.result.failures].sort((a: { kernel_id: string }, b: { kernel_id: string }) => a.kernel_id.localeCompare(b.kernel_id)),
      [
        { kernel_id: retiring.running, from_status: 'RUNNING', reason: 'AGENT_DECOMMISSIONED' },
        { kernel_id: retiring.preparing, from_status: 'PREPARING', reason: 'AGENT_DECOMMISSIONED' },
      ].sort((a, b) => a.kernel_id.localeCompare(b.kernel_id)), 'each from its own status, reason AGENT_DECOMMISSIONED')
    const sweepId = String(decommissioned.body.sweep_id)
    t.equal(decommissioned.headers['location'], `/v1/sweeps/${sweepId}`, 'Location')
    t.same((await session.expect(t, 'prism', { op: 'GET /v1/sweeps/{sweep_id}', path: `/v1/sweeps/${sweepId}` }, 200)).body, decommissioned.body, 'read back as answered')
    for (const kernelId of retiringIds) {
      t.match((await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}', path: `/v1/kernels/${kernelId}` }, 200)).body,
        { status: 'TERMINATED', status_info: 'AGENT_DECOMMISSIONED', version: 2 })
      t.match((await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}/history', path: `/v1/kernels/${kernelId}/history` }, 200)).body,
        { items: [{ to_status: 'TERMINATED', reason: 'AGENT_DECOMMISSIONED', sweep_id: sweepId }] })
    }
    t.match((await session.expect(t, 'prism', { op: 'GET /v1/agents/{agent_id}', path: '/v1/agents/pa-dec' }, 200)).body, { status: 'DECOMMISSIONED' })
    const gone = await session.expect(t, 'prism', { op: LIST_AGENTS, path: '/v1/agents?status=DECOMMISSIONED' }, 200)
    t.match(gone.body, { items: [{ agent_id: 'pa-dec', status: 'DECOMMISSIONED' }], next_cursor: null })
    t.equal(gone.body.items.length, 1, 'only pa-dec')
    t.same((await session.expect(t, 'prism', { op: RECONCILE, path: '/v1/agents/pa-dec/reconcile', json: { kernels: [retiring.running] } }, 200)).body,
      { orphans: [retiring.running], missing: [] }, 'a terminated kernel is an orphan; nothing is missing')
  })

  await t.test('events: pages, long-poll, the stream, 410', async (t) => {
    const LIST = 'GET /v1/events'
    const STREAM = 'GET /v1/events/stream'
    // Written on a connection of the test's own, as another instance would: the completed sweep's
    // kernel.terminated (from its history row), maybe an agent.decommissioned, then a sweep.finished.
    const db = schema.open()
    const events = new EventRepository(db)
    const append = (decommissioned: string[]): Promise<void> => db.transaction((tx) => events.within(tx).appendSweepEvents({
      sweepId: completed,
      scalingGroup: G,
      handler: 'sweep-stale-kernels',
      outcome: SweepOutcome.COMPLETED,
      dryRun: false,
      forced: false,
      kernels: 4,
      failures: 1,
      terminated: 1,
      skipped: 2,
    }, decommissioned))

    const start = String((await session.expect(t, 'prism', { op: LIST, path: '/v1/events' }, 200)).body.next_cursor)
    await append(['pa-dec'])
    const all = await session.expect(t, 'prism', { op: LIST, path: `/v1/events?after=${start}` }, 200)
    t.same(all.body.items.map((event: { type: string }) => event.type), ['kernel.terminated', 'agent.decommissioned', 'sweep.finished'])
    t.match(all.body.items[0], { source: 'kernel-sweeper', subject: kernel.dead, data: { kernel_id: kernel.dead, reason: 'STALE_KERNEL', sweep_id: completed, version: 2 } })
    const newest = String(all.body.next_cursor)
    t.match((await session.expect(t, 'prism', { op: LIST, path: `/v1/events?after=${start}&types=agent.decommissioned,sweep.finished&limit=1` }, 200)).body,
      { items: [{ type: 'agent.decommissioned', subject: 'pa-dec' }] })
    t.same((await session.expect(t, 'prism', { op: LIST, path: `/v1/events?after=${newest}&wait_sec=1` }, 200)).body,
      { items: [], next_cursor: newest }, 'nothing within wait_sec: empty')
    const polling = session.expect(t, 'prism', { op: LIST, path: `/v1/events?after=${newest}&wait_sec=20` }, 200)
    await sleep(300)
    await append([])
    t.match((await within(polling, 5_000, 'the long-poll woken')).body, { items: [{ type: 'kernel.terminated' }, { type: 'sweep.finished' }] })

    const streamed = await session.expectEvents(t, { op: STREAM, path: `/v1/events/stream?after=${start}` }, 5)
    t.same(eventFrames(streamed.text).map((frame) => frame['event']),
      ['kernel.terminated', 'agent.decommissioned', 'sweep.finished', 'kernel.terminated', 'sweep.finished'])
    t.same(eventFrames(streamed.text).map((frame) => JSON.parse(frame['data']!)).slice(0, 3), all.body.items, 'each data line is the CloudEvent listed')
    const resumed = await session.expectEvents(t, { op: STREAM, path: `/v1/events/stream?after=${start}`, headers: { 'last-event-id': newest } }, 2)
    t.same(eventFrames(resumed.text).map((frame) => Number(frame['id']) - Number(newest)), [1, 2], 'after Last-Event-ID')

    // Pruned up to `newest`: a cursor below it has lost events.
    await db.query("UPDATE events SET time = now() - interval '2 hours' WHERE id <= $1", [newest])
    t.ok(await events.prune(new Date(Date.now() - 3_600_000)) > 0)
    await session.expect(t, 'prism', { op: LIST, path: `/v1/events?after=${start}` }, 410, 'cursor-expired')
    await session.expect(t, 'prism', { op: STREAM, path: `/v1/events/stream?after=${start}` }, 410, 'cursor-expired')
  })

  // A valid request per operation with a token, for the 401s (the service checks the token first).
  const v1: Req[] = [
    { op: SWEEP, path: `/v1/scaling-groups/${G}/sweeps`, json: { dry_run: true } },
    { op: 'GET /v1/sweeps/{sweep_id}', path: `/v1/sweeps/${randomUUID()}` },
    { op: 'GET /v1/sweeps', path: '/v1/sweeps' },
    { op: 'PUT /v1/kernels/{kernel_id}', path: `/v1/kernels/${kernel.alive}`, json: running(G, 'pa1') },
    { op: 'GET /v1/kernels/{kernel_id}', path: `/v1/kernels/${kernel.alive}` },
    { op: 'PUT /v1/kernels', path: '/v1/kernels', json: { kernels: [{ kernel_id: kernel.alive, ...running(G, 'pa1') }] } },
    { op: 'GET /v1/kernels', path: '/v1/kernels' },
    { op: 'GET /v1/kernels/{kernel_id}/history', path: `/v1/kernels/${kernel.alive}/history` },
    { op: 'GET /v1/kernels/{kernel_id}/presence', path: `/v1/kernels/${kernel.alive}/presence` },
    { op: 'PUT /v1/agents/{agent_id}', path: '/v1/agents/pa1', json: { address: agent.url, scaling_group: G } },
    { op: 'GET /v1/agents/{agent_id}', path: '/v1/agents/pa1' },
    { op: 'POST /v1/agents/{agent_id}/presence', path: '/v1/agents/pa1/presence', json: { kernels: { [kernel.alive]: true } } },
    { op: LIST_AGENTS, path: '/v1/agents' },
    { op: RECONCILE, path: '/v1/agents/pa1/reconcile', json: { kernels: [kernel.alive] } },
    // A dry run: harmless should the token ever not be checked first.
    { op: DECOMMISSION, path: '/v1/agents/pa1/decommission', json: { dry_run: true } },
    { op: 'GET /v1/events', path: '/v1/events' },
    // Refused before it starts: with no token (401) or no database (503) no stream is opened.
    { op: 'GET /v1/events/stream', path: '/v1/events/stream' },
  ]

  await t.test('401: a wrong token through Prism, no token directly', async (t) => {
    for (const req of v1) {
      const wrong = await session.expect(t, 'prism', { ...req, auth: 'wrong' }, 401, 'unauthorized')
      t.equal(wrong.headers['www-authenticate'], 'Bearer', 'WWW-Authenticate')
      // Without an Authorization header Prism answers itself (its security check cannot be turned
      // off), so the service's own answer is taken directly and checked against the document here.
      await session.prismRefuses(t, { ...req, auth: 'none' }, 'no Authorization header', 401, 'UNAUTHORIZED')
      const none = await session.expect(t, 'direct', { ...req, auth: 'none' }, 401, 'unauthorized')
      t.equal(none.headers['www-authenticate'], 'Bearer', 'WWW-Authenticate')
    }
  })

  await t.test('403: an agent\'s own token on another agent\'s presence and reconcile routes', async (t) => {
    await session.expect(t, 'prism', { op: 'POST /v1/agents/{agent_id}/presence', path: '/v1/agents/pa1/presence', json: { kernels: { [kernel.alive]: true } }, auth: 'agent' }, 403, 'forbidden')
    await session.expect(t, 'prism', { op: RECONCILE, path: '/v1/agents/pa1/reconcile', json: { kernels: [kernel.alive] }, auth: 'agent' }, 403, 'forbidden')
  })

  await t.test('400: bad bodies and parameters (Prism refuses them; the lenient proxy checks the service)', async (t) => {
    const sweeps = `/v1/scaling-groups/${G}/sweeps`
    t.match((await session.bad(t, { op: SWEEP, path: sweeps, json: { dryrun: true } }, 'unknown field', 400, 'validation-error')).body.detail, /dryrun/)
    t.match((await session.bad(t, { op: SWEEP, path: sweeps, json: { dry_run: 'true' } }, 'a string for a boolean', 400, 'validation-error')).body.detail, /dry_run/)
    await session.bad(t, { op: SWEEP, path: '/v1/scaling-groups/bad%20name/sweeps', json: {} }, 'bad scaling group', 400, 'validation-error')
    await session.bad(t, { op: 'GET /v1/sweeps/{sweep_id}', path: '/v1/sweeps/not-a-uuid' }, 'bad sweep id', 400, 'validation-error')
    await session.bad(t, { op: 'GET /v1/sweeps', path: '/v1/sweeps?limit=0' }, 'limit 0', 400, 'validation-error')
    t.match((await session.bad(t, { op: 'PUT /v1/kernels/{kernel_id}', path: `/v1/kernels/${kernel.fresh}`, json: { ...running(G, 'pa1'), status: undefined } }, 'missing status', 400, 'validation-error')).body.detail, /status/)
    await session.bad(t, { op: 'GET /v1/kernels/{kernel_id}', path: '/v1/kernels/not-a-uuid' }, 'bad kernel id', 400, 'validation-error')
    await session.bad(t, { op: 'PUT /v1/kernels', path: '/v1/kernels', json: { kernels: [] } }, 'no kernels', 400, 'validation-error')
    await session.bad(t, { op: 'GET /v1/kernels', path: '/v1/kernels?status=ALIVE' }, 'unknown status', 400, 'validation-error')
    await session.bad(t, { op: 'GET /v1/kernels', path: '/v1/kernels?limit=1001' }, 'limit 1001', 400, 'validation-error')
    await session.bad(t, { op: 'GET /v1/kernels/{kernel_id}/history', path: '/v1/kernels/not-a-uuid/history' }, 'bad kernel id', 400, 'validation-error')
    await session.bad(t, { op: 'GET /v1/kernels/{kernel_id}/presence', path: '/v1/kernels/not-a-uuid/presence' }, 'bad kernel id', 400, 'validation-error')
    await session.bad(t, { op: 'PUT /v1/agents/{agent_id}', path: '/v1/agents/pa2', json: { address: 'ftp://127.0.0.1:1', scaling_group: G } }, 'bad address', 400, 'validation-error')
    await session.bad(t, { op: 'GET /v1/agents/{agent_id}', path: '/v1/agents/-bad' }, 'bad agent id', 400, 'validation-error')
    await session.bad(t, { op: 'POST /v1/agents/{agent_id}/presence', path: '/v1/agents/pa1/presence', json: { kernels: { 'not-a-uuid': true } } }, 'bad kernel id key', 400, 'validation-error')
    await session.bad(t, { op: LIST_AGENTS, path: '/v1/agents?status=GONE' }, 'unknown status', 400, 'validation-error')
    await session.bad(t, { op: LIST_AGENTS, path: '/v1/agents?limit=0' }, 'limit 0', 400, 'validation-error')
    await session.bad(t, { op: RECONCILE, path: '/v1/agents/pa1/reconcile', json: { kernels: ['not-a-uuid'] } }, 'bad kernel id', 400, 'validation-error')
    await session.bad(t, { op: RECONCILE, path: '/v1/agents/pa1/reconcile', json: {} }, 'no kernels field', 400, 'validation-error')
    await session.bad(t, { op: RECONCILE, path: '/v1/agents/-bad/reconcile', json: { kernels: [] } }, 'bad agent id', 400, 'validation-error')
    t.match((await session.bad(t, { op: DECOMMISSION, path: '/v1/agents/pa1/decommission', json: { dryrun: true } }, 'unknown field', 400, 'validation-error')).body.detail, /dryrun/)
    t.match((await session.bad(t, { op: DECOMMISSION, path: '/v1/agents/pa1/decommission', json: { force: 'yes' } }, 'a string for a boolean', 400, 'validation-error')).body.detail, /force/)
    await session.bad(t, { op: DECOMMISSION, path: '/v1/agents/-bad/decommission', json: { dry_run: true } }, 'bad agent id', 400, 'validation-error')
    t.match((await session.bad(t, { op: 'GET /v1/events', path: '/v1/events?after=abc' }, 'a cursor that is no id', 400, 'validation-error')).body.detail, /after/)
    t.match((await session.bad(t, { op: 'GET /v1/events', path: '/v1/events?types=kernel.killed' }, 'unknown type', 400, 'validation-error')).body.detail, /types/)
    await session.bad(t, { op: 'GET /v1/events', path: '/v1/events?wait_sec=31' }, 'wait_sec 31', 400, 'validation-error')
    await session.bad(t, { op: 'GET /v1/events/stream', path: '/v1/events/stream?types=sweep.finished,' }, 'a trailing comma', 400, 'validation-error')
    t.match((await session.bad(t, { op: 'GET /v1/events/stream', path: '/v1/events/stream', headers: { 'last-event-id': 'abc' } }, 'Last-Event-ID no id', 400, 'validation-error')).body.detail, /last-event-id/)
  })

  await t.test('400: malformed JSON and a repeated key reach the service only directly', async (t) => {
    const sweeps = `/v1/scaling-groups/${G}/sweeps`
    const malformed = { op: SWEEP, path: sweeps, raw: { contentType: 'application/json', body: '{"dry_run": tru' } }
    // Prism's body parser answers before any validation or forwarding, in a shape of its own.
    await session.prismRefuses(t, malformed, 'malformed JSON', 400, 'body parser: invalid_json')
    await session.expect(t, 'direct', malformed, 400, 'malformed-json')
    await session.expect(t, 'direct', { op: 'PUT /v1/agents/{agent_id}', path: '/v1/agents/pa2', raw: { contentType: 'application/json', body: '{"address": ' } }, 400, 'malformed-json')

    const repeated = { op: SWEEP, path: sweeps, raw: { contentType: 'application/json', body: '{"dry_run":false,"dry_run":true}' } }
    // Prism parses the body (the last key wins) and forwards it re-serialised: the service is
    // asked for an unambiguous dry run, and answers it. (The repetition is in the harmless order.)
    const normalised = await session.expect(t, 'prism', repeated, 201)
    t.match(normalised.body, { dry_run: true, outcome: 'dry_run' }, 'Prism forwarded {"dry_run":true}')
    session.refusals.push({ request: `POST ${sweeps}`, what: 'repeated key', prism: 'not refused: parsed (last key wins) and forwarded re-serialised → the service ran a dry run (201)' })
    t.match((await session.expect(t, 'direct', repeated, 400, 'malformed-json')).body.detail, /dry_run/)

    // The same for decommissioning (a dry run of pa1 when the last key wins, as through Prism).
    const decommission = '/v1/agents/pa1/decommission'
    await session.expect(t, 'direct', { op: DECOMMISSION, path: decommission, raw: { contentType: 'application/json', body: '{"force": ' } }, 400, 'malformed-json')
    const repeatedDecommission = { op: DECOMMISSION, path: decommission, raw: { contentType: 'application/json', body: '{"dry_run":false,"dry_run":true}' } }
    const normalisedDecommission = await session.expect(t, 'prism', repeatedDecommission, 201)
    t.match(normalisedDecommission.body, { handler: 'decommission-agent', dry_run: true, outcome: 'dry_run' }, 'Prism forwarded {"dry_run":true}')
    session.refusals.push({ request: `POST ${decommission}`, what: 'repeated key', prism: 'not refused: parsed (last key wins) and forwarded re-serialised → the service ran a dry run (201)' })
    t.match((await session.expect(t, 'direct', repeatedDecommission, 400, 'malformed-json')).body.detail, /dry_run/)
  })

  await t.test('413: bodies over 1 MiB and 8 MiB', async (t) => {
    // The service answers 413 from Content-Length alone, with `connection: close` (Fastify, on any
    // body error), and Node closes the socket under a client still writing. A 1 MiB body fits in
    // the sender's socket buffer, so the proxy has written it all and reads the 413; an 8 MiB body
    // does not, and the proxy (node-fetch) mostly fails with EPIPE and answers 500 FetchError — an
    // artefact of relaying, not an answer of the service. So: 1 MiB routes through both proxies
    // (the strict one refuses the padded body itself, 422, as it would an 8 MiB one: checking 8 MiB
    // bodies costs Prism seconds and shows nothing new); for every route, also directly on a socket
    // that announces the oversized body and sends none of it — deterministic — checked with Ajv.
    const cases: Array<{ req: Req, limit: number }> = [
      { req: { op: SWEEP, path: `/v1/scaling-groups/${G}/sweeps`, json: { dry_run: true } }, limit: MiB },
      { req: { op: 'PUT /v1/kernels/{kernel_id}', path: `/v1/kernels/${kernel.fresh}`, json: running(G, 'pa1') }, limit: MiB },
      { req: { op: 'PUT /v1/agents/{agent_id}', path: '/v1/agents/pa2', json: { address: agent.url, scaling_group: G } }, limit: MiB },
      { req: { op: 'PUT /v1/kernels', path: '/v1/kernels', json: { kernels: [{ kernel_id: kernel.fresh, ...running(G, null) }] } }, limit: 8 * MiB },
      { req: { op: 'POST /v1/agents/{agent_id}/presence', path: '/v1/agents/pa1/presence', json: { kernels: { [kernel.alive]: true } } }, limit: 8 * MiB },
      { req: { op: DECOMMISSION, path: '/v1/agents/pa1/decommission', json: { dry_run: true } }, limit: MiB },
      { req: { op: RECONCILE, path: '/v1/agents/pa1/reconcile', json: { kernels: [kernel.alive] } }, limit: 8 * MiB },
    ]
    for (const { req, limit } of cases) {
      if (limit === MiB) await session.bad(t, { ...req, json: { ...(req.json as object), padding: 'x'.repeat(limit) } }, 'body over 1 MiB', 413, 'body-too-large')
      await session.expectOversized(t, req, limit + 1, 413, 'body-too-large')
    }
  })

  await t.test('414: a path parameter over 100 characters', async (t) => {
    const long = 'x'.repeat(101)
    const cases: Req[] = [
      { op: SWEEP, path: `/v1/scaling-groups/${long}/sweeps`, json: {} },
      { op: 'GET /v1/sweeps/{sweep_id}', path: `/v1/sweeps/${long}` },
      { op: 'PUT /v1/kernels/{kernel_id}', path: `/v1/kernels/${long}`, json: running(G, 'pa1') },
      { op: 'GET /v1/kernels/{kernel_id}', path: `/v1/kernels/${long}` },
      { op: 'GET /v1/kernels/{kernel_id}/history', path: `/v1/kernels/${long}/history` },
      { op: 'GET /v1/kernels/{kernel_id}/presence', path: `/v1/kernels/${long}/presence` },
      { op: 'PUT /v1/agents/{agent_id}', path: `/v1/agents/${long}`, json: { address: agent.url, scaling_group: G } },
      { op: 'GET /v1/agents/{agent_id}', path: `/v1/agents/${long}` },
      { op: 'POST /v1/agents/{agent_id}/presence', path: `/v1/agents/${long}/presence`, json: { kernels: { [kernel.alive]: true } } },
      { op: RECONCILE, path: `/v1/agents/${long}/reconcile`, json: { kernels: [kernel.alive] } },
      { op: DECOMMISSION, path: `/v1/agents/${long}/decommission`, json: { dry_run: true } },
    ]
    for (const req of cases) await session.bad(t, req, 'path parameter of 101 characters', 414, 'uri-too-long')
  })

  await t.test('415: a body that is not JSON', async (t) => {
    const xml = { contentType: 'application/xml', body: '<request/>' }
    const text = { contentType: 'text/plain', body: 'dry_run' }
    const cases: Req[] = [
      { op: SWEEP, path: `/v1/scaling-groups/${G}/sweeps`, raw: text },
      { op: 'PUT /v1/kernels/{kernel_id}', path: `/v1/kernels/${kernel.fresh}`, raw: xml },
      { op: 'PUT /v1/kernels', path: '/v1/kernels', raw: xml },
      { op: 'PUT /v1/agents/{agent_id}', path: '/v1/agents/pa2', raw: xml },
      { op: 'POST /v1/agents/{agent_id}/presence', path: '/v1/agents/pa1/presence', raw: xml },
      { op: RECONCILE, path: '/v1/agents/pa1/reconcile', raw: xml },
      { op: DECOMMISSION, path: '/v1/agents/pa1/decommission', raw: text },
    ]
    for (const req of cases) await session.bad(t, req, 'a body that is not JSON', 415, 'unsupported-media-type')
  })

  await t.test('503: the presence store, then the database, taken away', async (t) => {
    await redis.stop()
    const failed = await session.expect(t, 'prism', { op: SWEEP, path: `/v1/scaling-groups/${G}/sweeps` }, 503, 'presence-unavailable')
    t.type(failed.body.sweep_id, 'string', 'the failed sweep is recorded')
    t.match((await session.expect(t, 'prism', { op: 'GET /v1/sweeps/{sweep_id}', path: `/v1/sweeps/${String(failed.body.sweep_id)}` }, 200)).body,
      { outcome: 'failed', error: String })
    await session.expect(t, 'prism', { op: 'POST /v1/agents/{agent_id}/presence', path: '/v1/agents/pa1/presence', json: { kernels: { [kernel.alive]: true } } }, 503, 'presence-unavailable')
    await session.expect(t, 'prism', { op: 'GET /v1/kernels/{kernel_id}/presence', path: `/v1/kernels/${kernel.alive}/presence` }, 503, 'presence-unavailable')
    const notReady = await session.expect(t, 'prism', { op: 'GET /readyz', path: '/readyz', auth: 'none' }, 503)
    t.match(notReady.body, { status: 'unavailable', checks: { database: 'ok' } })
    t.not(notReady.body.checks.presence, 'ok', 'the presence check says why')

    await relay.cut()
    await sleep(100) // the service's pools see their connections close
    const databaseGone: Req[] = v1.filter((req) => !req.op.includes('presence'))
    for (const req of databaseGone) await session.expect(t, 'prism', req, 503, 'database-unavailable')
    const stillNotReady = await session.expect(t, 'prism', { op: 'GET /readyz', path: '/readyz', auth: 'none' }, 503)
    t.not(stillNotReady.body.checks.database, 'ok', 'the database check says why')
    await session.expect(t, 'prism', { op: 'GET /healthz', path: '/healthz', auth: 'none' }, 200)
  })

  await t.test('every operation of openapi.yaml, and each status it documents, was exercised', async (t) => {
    t.comment('| operation | statuses exercised (P: strict prism, L: lenient prism, D: direct + Ajv) |')
    t.comment('|---|---|')
    for (const operation of operations.values()) {
      const statuses = session.coverage.get(operation.key) ?? new Map<number, Set<Via>>()
      const cells = [...statuses.entries()].sort(([a], [b]) => a - b)
        .map(([status, vias]) => `${status} ${[...vias].map((via) => ({ prism: 'P', lenient: 'L', direct: 'D' })[via]).join('')}`)
      t.comment(`| ${operation.doc.operationId ?? '?'} \`${operation.key}\` | ${cells.join(', ')} |`)
      t.ok([...statuses.values()].some((vias) => vias.has('prism')), `${operation.key} was called through the strict proxy`)
      const missing = Object.keys(operation.doc.responses)
        .filter((status) => NOT_PRODUCIBLE[status] === undefined && !statuses.has(Number(status)))
      t.same(missing, [], `${operation.key}: every documented status was produced`)
    }
    for (const [status, why] of Object.entries(NOT_PRODUCIBLE)) t.comment(`not produced: ${status} (${why})`)
  })

  t.comment('how Prism (--errors) handled deliberately bad requests:')
  const seen = new Set<string>()
  for (const refusal of session.refusals) {
    const line = `${refusal.what}: ${refusal.prism}`
    if (seen.has(line)) continue
    seen.add(line)
    t.comment(`  ${refusal.request} — ${line}`)
  }
  t.comment(`violations: ${session.violations.length}`)
  for (const violation of session.violations) {
    t.comment(`  [${violation.via}] ${violation.request} → ${violation.status}; Prism: ${short(violation.prism, 1000)}; answer: ${violation.answer}`)
  }
  t.equal(session.violations.length, 0, 'Prism found 0 violations')
  t.comment(`${session.calls} calls; whole session ${Date.now() - started} ms`)
})
