import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'

/**
 * What must hold after any sweep, whatever failed around it: no kernel that was alive is
 * TERMINATED, and for every kernel, TERMINATED ⇔ exactly one history row ⇔ listed in the
 * `terminated` of exactly one recorded sweep.
 */
export async function assertNoFalseTermination (t: Test, app: FastifyInstance, aliveKernelIds: readonly string[]): Promise<void> {
  const rows = await app.persistence.db.query<{ id: string, status: string, history: number }>(
    `SELECT k.id, k.status, (SELECT count(*)::int FROM kernel_status_history h WHERE h.kernel_id = k.id) AS history
     FROM kernels k`
  )
  const sweeps = await app.persistence.sweeps.list({ limit: 500 })
  const listed = new Map<string, number>()
  for (const sweep of sweeps) for (const id of sweep.terminated) listed.set(id, (listed.get(id) ?? 0) + 1)

  const alive = new Set(aliveKernelIds)
  const broken = rows.filter((row) => {
    const terminated = row.status === 'TERMINATED'
    if (alive.has(row.id) && terminated) return true
    return terminated !== (row.history === 1) || terminated !== (listed.get(row.id) === 1) || row.history > 1
  })
  t.same(broken, [], `no live kernel terminated; TERMINATED ⇔ one history row ⇔ one sweep lists it (${rows.length} kernels, ${sweeps.length} sweeps)`)
}
