import type { AgentId, KernelId } from '../../domain/kernel-info.js'
import type { PresenceReporter, Reconciler, Registrar } from './agent-simulator.js'

/** The service answered with an error status; a 4xx other than 408 and 429 will not change by trying again. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError'
  readonly permanent: boolean

  constructor (readonly status: number, message: string) {
    super(message)
    this.permanent = status >= 400 && status < 500 && status !== 408 && status !== 429
  }
}

export interface ServiceClientOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string
  /** Sent as `Authorization: Bearer <token>` (AGENT_TOKEN, or API_TOKEN to register). */
  readonly token?: string
  /** Per request. */
  readonly timeoutMs?: number
}

/** What an agent says to the service, over HTTP (contract §3): registration, heartbeats, reconciliation. */
export interface ServiceClient {
  /** `PUT /v1/agents/{agent_id}` in `scalingGroup`. */
  registrar (scalingGroup: string): Registrar
  /** `POST /v1/agents/{agent_id}/presence`. */
  readonly reportPresence: PresenceReporter
  /** `POST /v1/agents/{agent_id}/reconcile`. */
  readonly reconcile: Reconciler
}

export function serviceClient ({ url, token, timeoutMs = 5_000 }: ServiceClientOptions): ServiceClient {
  const base = url.replace(/\/+$/, '')
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`

  async function send (method: string, path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) })
    const text = await response.text()
    if (!response.ok) throw new ServiceError(response.status, `${method} ${path}: HTTP ${response.status} ${text}`)
    return text === '' ? null : JSON.parse(text)
  }
  const agentPath = (agentId: AgentId) => `/v1/agents/${encodeURIComponent(agentId)}`

  return {
    registrar: (scalingGroup) => async (agentId, address) => {
      await send('PUT', agentPath(agentId), { address, scaling_group: scalingGroup })
    },
    reportPresence: async (agentId, kernels) => {
      await send('POST', `${agentPath(agentId)}/presence`, { kernels: Object.fromEntries(kernels) })
    },
    reconcile: async (agentId, kernels) => {
      const answer = await send('POST', `${agentPath(agentId)}/reconcile`, { kernels }) as { orphans?: unknown, missing?: unknown } | null
      const ids = (value: unknown): KernelId[] => Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : []
      if (answer === null || !Array.isArray(answer.orphans) || !Array.isArray(answer.missing)) {
        throw new Error(`POST ${agentPath(agentId)}/reconcile: the answer has no orphans and missing lists`)
      }
      return { orphans: ids(answer.orphans), missing: ids(answer.missing) }
    },
  }
}
