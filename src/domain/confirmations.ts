import type { HandlerKernel, KernelId } from './kernel-info.js'
import { SkipCause, type KernelExecutionResult, type KernelTransitionInfo, type SkippedKernel } from './results.js'

/** A kernel's run of "not running" answers, at the version it had when they were given (rule 11). */
export interface ConfirmationCount {
  readonly kernelId: KernelId
  readonly kernelVersion: number
  readonly count: number
}

export interface ConfirmedResult {
  /** The result with every failure not yet confirmed `required` times moved back to the successes. */
  readonly result: KernelExecutionResult
  /** The counts this sweep leaves: every failure's run, one longer. */
  readonly counts: readonly ConfirmationCount[]
}

/**
 * Contract §2 rule 11: a kernel its agent calls dead is terminated only in the `required`-th sweep
 * in a row that says so (or a later one). Before that it stays as it is, skipped as
 * `awaiting_confirmation`. A run counts only at the kernel's current version: any change of the
 * kernel starts it again. Pure: the caller reads `previous` and writes `counts`.
 */
export function applyConfirmations (
  kernels: readonly HandlerKernel[],
  result: KernelExecutionResult,
  previous: ReadonlyMap<KernelId, Omit<ConfirmationCount, 'kernelId'>>,
  required: number
): ConfirmedResult {
  if (result.failures.length === 0) return { result, counts: [] }
  const versions = new Map(kernels.map((kernel) => [kernel.id, kernel.version]))
  const counts: ConfirmationCount[] = []
  const awaiting = new Map<KernelId, number>()
  for (const failure of result.failures) {
    const kernelVersion = versions.get(failure.kernelId)
    if (kernelVersion === undefined) throw new Error(`failure ${failure.kernelId} is not one of the kernels handed to the handler`)
    const before = previous.get(failure.kernelId)
    const count = (before?.kernelVersion === kernelVersion ? before.count : 0) + 1
    counts.push({ kernelId: failure.kernelId, kernelVersion, count })
    if (count < required) awaiting.set(failure.kernelId, count)
  }
  if (awaiting.size === 0) return { result, counts }

  // Both lists stay in input order: the moved failures are merged back by their input position.
  const position = new Map(kernels.map((kernel, index) => [kernel.id, index]))
  const byPosition = (a: { kernelId: KernelId }, b: { kernelId: KernelId }): number =>
    position.get(a.kernelId)! - position.get(b.kernelId)!
  const demoted = result.failures.filter((failure) => awaiting.has(failure.kernelId))
  const successes: KernelTransitionInfo[] = [
    ...result.successes,
    ...demoted.map((failure) => ({ kernelId: failure.kernelId, fromStatus: failure.fromStatus, reason: null })),
  ].sort(byPosition)
  const skipped: SkippedKernel[] = [
    ...result.skipped,
    ...demoted.map((failure) => ({ kernelId: failure.kernelId, cause: SkipCause.AWAITING_CONFIRMATION, confirmations: awaiting.get(failure.kernelId)! })),
  ].sort(byPosition)
  return {
    result: { ...result, successes, failures: result.failures.filter((failure) => !awaiting.has(failure.kernelId)), skipped },
    counts,
  }
}
