import { randomUUID } from 'node:crypto'
import t from 'tap'
import { KernelStatus } from '../../src/domain/kernel-status.js'
import { KernelTransitionRuns, SkipCause } from '../../src/domain/results.js'
import { SweepOutcome, type SweepRecord } from '../../src/domain/sweep.js'
import { sweepJsonChunks, sweepListJsonChunks } from '../../src/http/sweep-json.js'
import { sweepToWire } from '../../src/http/wire.js'

const { RUNNING, PENDING } = KernelStatus

function sweepRecord (overrides: Partial<SweepRecord> = {}): SweepRecord {
  return {
    sweepId: randomUUID(),
    scalingGroup: 'gpu.a-1:x',
    handler: 'sweep-stale-kernels',
    dryRun: false,
    forced: true,
    outcome: SweepOutcome.COMPLETED,
    startedAt: new Date('2026-12-02T10:00:00.000Z'),
    finishedAt: new Date('2026-12-02T10:00:01.250Z'),
    result: { successes: [], failures: [], skipped: [] },
    terminated: [],
    error: null,
    ...overrides,
  }
}

const [k1, k2, k3, k4, k5] = Array.from({ length: 5 }, () => randomUUID())
const full = sweepRecord({
  result: {
    successes: [
      { kernelId: k1!, fromStatus: RUNNING, reason: null },
      { kernelId: k2!, fromStatus: RUNNING, reason: null },
      { kernelId: k5!, fromStatus: PENDING, reason: null },
    ],
    failures: [
      { kernelId: k3!, fromStatus: RUNNING, reason: 'STALE_KERNEL' },
      { kernelId: k4!, fromStatus: RUNNING, reason: 'a "quoted" reason, with \\ and \n and ü' },
    ],
    skipped: [
      { kernelId: k1!, cause: SkipCause.AWAITING_CONFIRMATION, confirmations: 2 },
      { kernelId: k2!, cause: SkipCause.AGENT_TIMEOUT },
    ],
  },
  terminated: [k3!],
})

t.test('a Sweep streams as the JSON of its wire object, key for key', async (t) => {
  const failed = sweepRecord({ outcome: SweepOutcome.FAILED, dryRun: true, forced: false, error: 'presence store unavailable: "ECONNREFUSED"' })
  const compact = sweepRecord({ result: { successes: KernelTransitionRuns.of(full.result.successes), failures: [], skipped: [] } })
  // Longer than a chunk, in characters of two and three UTF-8 bytes.
  const long = sweepRecord({ outcome: SweepOutcome.FAILED, error: `${'ü€'.repeat(40_000)}"\u0000` })
  for (const [name, sweep] of Object.entries({ full, failed, empty: sweepRecord(), compact, long })) {
    t.equal(Buffer.concat([...sweepJsonChunks(sweep)]).toString(), JSON.stringify(sweepToWire(sweep)), name)
  }
})

t.test('a list of sweeps streams as a SweepList', async (t) => {
  const sweeps = [full, sweepRecord()]
  t.equal(Buffer.concat([...sweepListJsonChunks(sweeps)]).toString(), JSON.stringify({ items: sweeps.map(sweepToWire) }))
  t.equal(Buffer.concat([...sweepListJsonChunks([])]).toString(), '{"items":[]}')
})

t.test('a large sweep is written in chunks of bounded size, none of them the whole answer', async (t) => {
  const successes = new KernelTransitionRuns()
  for (let i = 0; i < 20_000; i++) successes.add(randomUUID(), RUNNING, null)
  const sweep = sweepRecord({ result: { successes, failures: [], skipped: [] } })
  const chunks = [...sweepJsonChunks(sweep)]
  t.equal(Buffer.concat(chunks).toString(), JSON.stringify(sweepToWire(sweep)))
  t.ok(chunks.length > 10, `${chunks.length} chunks`)
  t.ok(Math.max(...chunks.map((chunk) => chunk.length)) < 66 * 1024, 'each about 64 KiB at most')
})
