import type { Test } from 'tap'
import type { Sweep } from '../../clients/typescript/client.js'

/** What the counts summarise, loosely typed so tests with their own Sweep shapes can pass theirs. */
interface Listed extends Pick<Sweep, 'counts'> {
  readonly result: { readonly successes: readonly unknown[], readonly failures: readonly unknown[] }
  readonly terminated: readonly unknown[]
  readonly skipped: readonly unknown[]
}

/** A Sweep's `counts` are its lists' lengths (contract §3). */
export function assertCountsMatch (t: Test, sweep: Listed): void {
  t.same(sweep.counts, {
    kernels: sweep.result.successes.length + sweep.result.failures.length,
    successes: sweep.result.successes.length,
    failures: sweep.result.failures.length,
    terminated: sweep.terminated.length,
    skipped: sweep.skipped.length,
  }, 'counts = the lists\' lengths')
}
