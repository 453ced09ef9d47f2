import { randomUUID } from 'node:crypto'
import type { AgentId, KernelInfo } from '../../src/domain/kernel-info.js'
import { KernelStatus } from '../../src/domain/kernel-status.js'

/** A RUNNING kernel of scaling group `default`, with a fresh id unless one is given. */
export function runningKernel (agentId: AgentId | null = 'a1', id: string = randomUUID()): KernelInfo {
  return { id, sessionId: randomUUID(), agentId, scalingGroup: 'default', status: KernelStatus.RUNNING, version: 1 }
}
