// P3 — termination: 10,000 confirmed-dead kernels moved to TERMINATED with their history rows,
// by the state engine, against a hand-written single-statement floor and against one transaction
// per kernel, all on real Postgres.
import { randomUUID } from 'node:crypto'
import { KernelStatus } from '../src/domain/kernel-status.js'
import { persistenceOver } from '../src/persistence/persistence.js'
import { runMigrations } from '../src/persistence/migrate.js'
import { InProcessLockFactory } from '../src/persistence/locks/in-process-lock-factory.js'
import { PostgresDatabase } from '../src/persistence/postgres-database.js'
import { fmt, median, report, scratch, timed } from './support.js'

const KERNELS = Number(process.argv[2] ?? 10_000)
const runs = Number(process.argv[3] ?? 3)
const s = await scratch()
const db = new PostgresDatabase({ connectionString: s.databaseUrl })
try {
  await runMigrations(db)
  const p = persistenceOver(db, new InProcessLockFactory(db))
  const ids = Array.from({ length: KERNELS }, () => randomUUID())
  await p.kernels.upsertMany(ids.map((id) => ({ id, sessionId: randomUUID(), agentId: 'a1', scalingGroup: 'bench', status: KernelStatus.RUNNING })))
  const reset = async (): Promise<void> => {
    await db.query("UPDATE kernels SET status = 'RUNNING', status_info = NULL, terminated_at = NULL, version = 1")
    await db.query('DELETE FROM kernel_status_history')
    await db.query('VACUUM ANALYZE kernels, kernel_status_history')
  }
  const verify = async (): Promise<void> => {
    const [row] = await db.query<{ terminated: number, history: number }>(
      "SELECT (SELECT count(*)::int FROM kernels WHERE status = 'TERMINATED') AS terminated, (SELECT count(*)::int FROM kernel_status_history) AS history")
    if (row?.terminated !== KERNELS || row.history !== KERNELS) throw new Error(`terminated ${row?.terminated}, history ${row?.history}`)
  }
  const requests = ids.map((kernelId) => ({ kernelId, reason: 'STALE_KERNEL', fromStatus: KernelStatus.RUNNING, expectedVersion: 1 }))

  const floor: number[] = []
  const engine: number[] = []
  for (let run = 0; run < runs; run++) {
    await reset()
    floor.push((await timed(() => db.query(`
      WITH updated AS (
        UPDATE kernels SET status = 'TERMINATED', status_info = 'STALE_KERNEL', status_changed_at = now(), terminated_at = now(), version = version + 1
        WHERE id = ANY($1::uuid[]) AND status = 'RUNNING' AND version = 1 RETURNING id
      )
      INSERT INTO kernel_status_history (kernel_id, from_status, to_status, reason, sweep_id)
      SELECT id, 'RUNNING', 'TERMINATED', 'STALE_KERNEL', $2::uuid FROM updated`, [ids, randomUUID()]))).ms)
    await verify()
    await reset()
    engine.push((await timed(() => p.stateEngine.markKernelsTerminated(requests, { sweepId: randomUUID() }))).ms)
    await verify()
  }
  await reset()
  const perKernel = await timed(async () => {
    const sweepId = randomUUID()
    for (const request of requests) await p.stateEngine.markKernelTerminated(request, { sweepId })
  })
  await verify()
  report('P3 termination', {
    kernels: KERNELS,
    'floor (one hand-written statement)': fmt(median(floor)),
    'state engine (one statement, conditional per kernel)': fmt(median(engine)),
    'engine / floor': (median(engine) / median(floor)).toFixed(2),
    'one transaction per kernel': fmt(perKernel.ms),
    runs: `${engine.map(fmt).join(', ')} (floor ${floor.map(fmt).join(', ')})`,
  })
} finally {
  await db.close()
  await s.drop()
}
