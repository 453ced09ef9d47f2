import t from 'tap'
import { evaluateMassTerminationGuard } from '../../src/coordinator/mass-termination-guard.js'

t.test('the mass-termination guard, at its boundaries', async (t) => {
  const settings = { maxRatio: 0.5, minKernels: 10 }
  const table: Array<[string, number, number, 'allow' | 'trip']> = [
    ['nothing dead', 0, 100, 'allow'],
    ['one below the minimum count, even if all are dead', 9, 9, 'allow'],
    ['at the minimum count, all dead', 10, 10, 'trip'],
    ['at the minimum count, exactly at the ratio', 10, 20, 'allow'],
    ['just over the ratio', 11, 21, 'trip'],
    ['just under the ratio', 10, 21, 'allow'],
    ['many dead, a small share', 40, 100, 'allow'],
    ['many dead, a large share', 60, 100, 'trip'],
    ['no running kernels', 10, 0, 'allow'],
  ]
  for (const [name, dead, running, decision] of table) {
    t.equal(evaluateMassTerminationGuard(dead, running, settings), decision, `${name}: ${dead} of ${running}`)
  }
  t.equal(evaluateMassTerminationGuard(1, 1, { maxRatio: 0, minKernels: 1 }), 'trip', 'ratio 0 trips on any death')
  t.equal(evaluateMassTerminationGuard(5, 5, { maxRatio: 1, minKernels: 1 }), 'allow', 'ratio 1 never trips')
})
