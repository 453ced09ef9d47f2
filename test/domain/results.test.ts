import { randomUUID } from 'node:crypto'
import t from 'tap'
import { KernelStatus } from '../../src/domain/kernel-status.js'
import { KernelTransitionRuns, type KernelTransitionInfo } from '../../src/domain/results.js'

const { RUNNING, PENDING } = KernelStatus

t.test('KernelTransitionRuns keeps ids plus runs of what consecutive kernels share, in input order', async (t) => {
  const [k1, k2, k3, k4] = Array.from({ length: 4 }, () => randomUUID())
  const list: KernelTransitionInfo[] = [
    { kernelId: k1!, fromStatus: RUNNING, reason: null },
    { kernelId: k2!, fromStatus: RUNNING, reason: null },
    { kernelId: k3!, fromStatus: PENDING, reason: null },
    { kernelId: k4!, fromStatus: RUNNING, reason: 'STALE_KERNEL' },
  ]
  const runs = KernelTransitionRuns.of(list)
  t.equal(runs.length, 4)
  t.same(runs.kernelIds, [k1, k2, k3, k4])
  t.same(runs.runs, [
    { fromStatus: RUNNING, reason: null, count: 2 },
    { fromStatus: PENDING, reason: null, count: 1 },
    { fromStatus: RUNNING, reason: 'STALE_KERNEL', count: 1 },
  ])
  t.same([...runs], list, 'iterates as the list it was made from')
  t.equal(KernelTransitionRuns.of(runs), runs, 'a compact list is taken as it is')
  t.same([...new KernelTransitionRuns()], [])
})

t.test('a sweep of 100,000 live kernels is one run', async (t) => {
  const runs = new KernelTransitionRuns()
  for (let i = 0; i < 100_000; i++) runs.add(randomUUID(), RUNNING, null)
  t.equal(runs.length, 100_000)
  t.same(runs.runs, [{ fromStatus: RUNNING, reason: null, count: 100_000 }])
})

t.test('stored runs must account for every stored id', async (t) => {
  const ids = [randomUUID(), randomUUID()]
  t.same([...new KernelTransitionRuns(ids, [{ fromStatus: RUNNING, reason: null, count: 2 }])].map((info) => info.kernelId), ids)
  t.throws(() => new KernelTransitionRuns(ids, [{ fromStatus: RUNNING, reason: null, count: 1 }]), /count 1 kernels for 2 ids/)
  t.throws(() => new KernelTransitionRuns(ids, [{ fromStatus: RUNNING, reason: null, count: 3 }]), /count 3 kernels for 2 ids/)
})
