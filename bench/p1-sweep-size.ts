// P1 — sweep size: a sweep of N RUNNING kernels, all alive, through the real service (HTTP answer,
// coordinator, Valkey store, sweep record), against the floor of the same run: the bare SELECT of
// those rows with pg plus one ioredis pipeline reading their presence hashes. Each sweep runs in a
// fresh process, so its peak RSS is the service's own.
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { KernelStatus } from '../src/domain/kernel-status.js'
import { fmt, median, REDIS_URL, report, scratch, timed } from './support.js'

const kernels = Number(process.argv[2] ?? 100_000)
const runs = Number(process.argv[3] ?? 3)
const s = await scratch()
try {
  const app = await buildApp(loadConfig({ DATABASE_URL: s.databaseUrl, VALKEY_URL: REDIS_URL, SWEEP_INTERVAL_SEC: '0' }), { logger: false })
  await app.ready()
  const ids = Array.from({ length: kernels }, () => randomUUID())
  for (let i = 0; i < ids.length; i += 10_000) {
    const batch = ids.slice(i, i + 10_000)
    await app.persistence.kernels.upsertMany(batch.map((id, j) => ({ id, sessionId: randomUUID(), agentId: `a${j % 100}`, scalingGroup: 'bench', status: KernelStatus.RUNNING })))
    await app.sweeper.presence.updateKernelPresenceBatch(new Map(batch.map((id) => [id, true])))
  }
  await app.persistence.db.query('VACUUM ANALYZE kernels')
  await app.close()

  const client = new pg.Client({ connectionString: s.databaseUrl })
  await client.connect()
  const floors: number[] = []
  const sweeps: Array<{ ms: number, idleRss: number, peakRss: number, bytes: number }> = []
  for (let run = 0; run < runs; run++) {
    const floor = await timed(async () => {
      const { rows } = await client.query("SELECT id, session_id, agent_id, status FROM kernels WHERE scaling_group = 'bench' AND status = 'RUNNING'")
      const pipeline = s.redis.pipeline()
      for (const row of rows as Array<{ id: string }>) pipeline.hgetall(`kernel:presence:${row.id}`)
      return pipeline.exec()
    })
    floors.push(floor.ms)
    const { stdout } = await promisify(execFile)(process.execPath, [new URL('p1-sweep-once.js', import.meta.url).pathname, s.databaseUrl, REDIS_URL, String(kernels)])
    sweeps.push(JSON.parse(stdout))
  }
  await client.end()
  const floor = median(floors)
  const sweep = median(sweeps.map((x) => x.ms))
  report('P1 sweep size', {
    kernels,
    'floor (SELECT + ioredis pipeline)': fmt(floor),
    sweep: fmt(sweep),
    'sweep / floor': (sweep / floor).toFixed(2),
    'idle RSS': `${median(sweeps.map((x) => x.idleRss))} MB`,
    'peak RSS': `${Math.max(...sweeps.map((x) => x.peakRss))} MB`,
    'answer size': `${(sweeps[0]!.bytes / 1_048_576).toFixed(1)} MB`,
    runs: `${sweeps.map((x) => fmt(x.ms)).join(', ')} (floor ${floors.map(fmt).join(', ')})`,
  })
} finally {
  await s.drop()
}
