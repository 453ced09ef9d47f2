import type { AgentId, KernelId } from '../domain/kernel-info.js'
import type { KernelPresenceStatus } from '../domain/presence.js'

/** Port to the heartbeat presence store (Valkey, or process memory in embedded mode). */
export interface PresenceStore {
  /**
   * Stage 1 of the stale check: the presence of every kernel in one round trip, recording the
   * check itself on the kernels and their agents (contract §4). Kernels with no record map to
   * `null`. Throws when the store cannot answer, so a sweep never mistakes an outage for death.
   */
  checkKernelPresenceStatusBatch (
    kernelIds: readonly KernelId[],
    agentIds: readonly AgentId[],
  ): Promise<ReadonlyMap<KernelId, KernelPresenceStatus | null>>
}
