// P1 — sweep size: a sweep of N RUNNING kernels, all alive, through the real service as it runs in
// production — its own long-lived process, fed its kernels through bulk upserts and its heartbeats
// through the presence route, warmed up by earlier sweeps — timed over HTTP, with the process's
// RSS just before and at its peak during the sweep. The floor, measured in the same run: the same
// SELECT with pg, plus stage 1 written as raw RESP on a plain socket with the replies counted, not
// parsed (what Postgres and Redis themselves need, with as little Node as possible).
import { randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { Agent, fetch, type Response } from 'undici'
import { fmt, median, peakRssDuring, REDIS_URL, report, rssOf, scratch, startService, timed, type ServiceProcess } from './support.js'

const kernels = Number(process.argv[2] ?? 100_000)
const runs = Number(process.argv[3] ?? 3)
/** Seconds between two measured sweeps: a running service sweeps a group every `SWEEP_INTERVAL_SEC` (60 s by default), and is idle in between. */
const pauseSec = Number(process.argv[4] ?? 2)
const WARM_UP_SWEEPS = 2
const AGENTS = 100
/** The most kernels one bulk upsert or presence request takes (contract §3). */
const REQUEST_KERNELS = 10_000
/** The service's default `PRESENCE_TTL_SEC`, for the floor's EXPIRE. */
const PRESENCE_TTL_SEC = 300
const GROUP = 'bench'
/** The service's own query (KernelRepository.searchKernelsForHandler), with its parameters. */
const SELECT_SQL = `SELECT id, session_id, agent_id, status, version FROM kernels
  WHERE scaling_group = $1 AND status = ANY($2::text[]) AND ($3::text IS NULL OR agent_id = $3) ORDER BY id`

/** No time limit on an answer: a sweep of a million kernels may take minutes, and that is what is measured. */
const patient = new Agent({ headersTimeout: 0, bodyTimeout: 0 })

async function call (service: ServiceProcess, method: string, path: string, body: unknown): Promise<Response> {
  const response = await fetch(`${service.url}${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher: patient,
  })
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${(await response.text()).slice(0, 200)}`)
  return response
}

/** N RUNNING kernels on `AGENTS` agents, written as clients write them: bulk upserts, then heartbeats per agent. */
async function seed (service: ServiceProcess): Promise<void> {
  const byAgent = Array.from({ length: AGENTS }, (): string[] => [])
  for (let start = 0; start < kernels; start += REQUEST_KERNELS) {
    const batch = Array.from({ length: Math.min(REQUEST_KERNELS, kernels - start) }, (_, i) => {
      const agent = (start + i) % AGENTS
      const kernelId = randomUUID()
      byAgent[agent]!.push(kernelId)
      return { kernel_id: kernelId, session_id: randomUUID(), scaling_group: GROUP, agent_id: `a${agent}`, status: 'RUNNING' }
    })
    await call(service, 'PUT', '/v1/kernels', { kernels: batch })
  }
  for (const [agent, ids] of byAgent.entries()) {
    for (let start = 0; start < ids.length; start += REQUEST_KERNELS) {
      const heartbeats = Object.fromEntries(ids.slice(start, start + REQUEST_KERNELS).map((id) => [id, true]))
      await call(service, 'POST', `/v1/agents/a${agent}/presence`, { kernels: heartbeats })
    }
  }
}

async function sweep (service: ServiceProcess): Promise<{ bytes: number }> {
  const response = await call(service, 'POST', `/v1/scaling-groups/${GROUP}/sweeps`, {})
  const body = await response.text()
  const answer = JSON.parse(body) as { outcome: string, counts: { successes: number, failures: number, skipped: number } }
  if (answer.outcome !== 'completed' || answer.counts.successes !== kernels || answer.counts.failures !== 0 || answer.counts.skipped !== 0) {
    throw new Error(`sweep answered ${JSON.stringify({ outcome: answer.outcome, counts: answer.counts })}, expected ${kernels} live kernels`)
  }
  return { bytes: Buffer.byteLength(body) }
}

/** One command in RESP, the protocol's own encoding. */
function resp (...args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`
}

/**
 * A plain socket to Redis that writes raw RESP and only watches for the end of the replies: the
 * last command is an ECHO of a fresh token, so its reply, in order, is the last bytes to arrive.
 */
class RawRedis {
  private constructor (private readonly socket: Socket) {}

  static async open (url: string): Promise<RawRedis> {
    const { hostname, port, pathname } = new URL(url)
    const socket = connect(Number(port || 6379), hostname)
    await once(socket, 'connect')
    socket.setNoDelay(true)
    const raw = new RawRedis(socket)
    await raw.roundTrip([resp('SELECT', pathname.slice(1) || '0')])
    return raw
  }

  /** Writes already encoded commands in batches and resolves once every reply has arrived. */
  async roundTrip (commands: Iterable<string>): Promise<void> {
    const token = randomBytes(16).toString('hex')
    const end = Buffer.from(`$${token.length}\r\n${token}\r\n`)
    let tail = Buffer.alloc(0)
    const arrived = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        tail = Buffer.concat([tail, chunk]).subarray(-end.length)
        if (tail.equals(end)) {
          this.socket.off('data', onData).off('error', reject)
          resolve()
        }
      }
      this.socket.on('data', onData).once('error', reject)
    })
    let batch = ''
    let inBatch = 0
    for (const command of commands) {
      batch += command
      if (++inBatch === 1_000) {
        if (!this.socket.write(batch)) await once(this.socket, 'drain')
        batch = ''
        inBatch = 0
      }
    }
    this.socket.write(batch + resp('ECHO', token))
    await arrived
  }

  close (): void {
    this.socket.destroy()
  }
}

/** Stage 1 as the service does it, per kernel: stamp `last_check`, renew the expiry, read the record. */
function * stageOneCommands (ids: readonly string[]): Generator<string> {
  const now = String(Math.floor(Date.now() / 1000))
  const ttl = String(PRESENCE_TTL_SEC)
  for (const id of ids) {
    const key = `kernel:presence:${id}`
    yield resp('HSET', key, 'last_check', now) + resp('EXPIRE', key, ttl) + resp('HGETALL', key)
  }
}

const s = await scratch()
const client = new pg.Client({ connectionString: s.databaseUrl })
const redis = await RawRedis.open(REDIS_URL)
let service: ServiceProcess | undefined
try {
  service = await startService({ DATABASE_URL: s.databaseUrl, VALKEY_URL: REDIS_URL })
  const pid = service.child.pid!
  await seed(service)
  await client.connect()
  await client.query('VACUUM ANALYZE kernels')
  for (let i = 0; i < WARM_UP_SWEEPS; i++) await sweep(service)

  const floors: Array<{ select: number, stageOne: number }> = []
  const sweeps: Array<{ ms: number, idleRss: number, peakRss: number, bytes: number }> = []
  for (let run = 0; run < runs; run++) {
    const select = await timed(() => client.query<{ id: string }>(SELECT_SQL, [GROUP, ['RUNNING'], null]))
    if (select.result.rows.length !== kernels) throw new Error(`the floor's SELECT read ${select.result.rows.length} kernels`)
    const stageOne = await timed(() => redis.roundTrip(stageOneCommands(select.result.rows.map((row) => row.id))))
    floors.push({ select: select.ms, stageOne: stageOne.ms })
    // A pause, as between two sweeps of a running service, so the sweep starts from an idle process.
    await sleep(pauseSec * 1_000)
    const idleRss = (await rssOf(pid)).rss
    const measured = await peakRssDuring(pid, () => timed(() => sweep(service!)))
    sweeps.push({ ms: measured.result.ms, idleRss, peakRss: measured.peakRss, bytes: measured.result.result.bytes })
  }
  const floor = median(floors.map((f) => f.select + f.stageOne))
  const swept = median(sweeps.map((x) => x.ms))
  report('P1 sweep size', {
    kernels,
    'floor (SELECT + stage 1 as raw RESP)': `${fmt(floor)} (SELECT ${fmt(median(floors.map((f) => f.select)))}, RESP ${fmt(median(floors.map((f) => f.stageOne)))})`,
    'sweep (HTTP, long-lived service)': fmt(swept),
    'sweep / floor': (swept / floor).toFixed(2),
    'idle RSS before the sweep': `${median(sweeps.map((x) => x.idleRss))} MB`,
    'peak RSS during the sweep': `${median(sweeps.map((x) => x.peakRss))} MB (max ${Math.max(...sweeps.map((x) => x.peakRss))} MB)`,
    'answer size': `${(sweeps[0]!.bytes / 1_048_576).toFixed(1)} MB`,
    runs: `${sweeps.map((x) => `${fmt(x.ms)} ${x.idleRss}→${x.peakRss} MB`).join(', ')} (floor ${floors.map((f) => fmt(f.select + f.stageOne)).join(', ')})`,
  })
} finally {
  await service?.stop()
  await patient.close()
  redis.close()
  await client.end()
  await s.drop()
}
