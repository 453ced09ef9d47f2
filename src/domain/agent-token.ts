import { createHmac, timingSafeEqual } from 'node:crypto'
import type { AgentId } from './kernel-info.js'

/**
 * Per-agent tokens (contract §3): agent A's token is `A.` followed by the unpadded base64url of
 * HMAC-SHA256(secret, A). It names its agent, so it is checked without a lookup, and it is good
 * for that agent only: a leaked token speaks for one node, not the fleet.
 */
export function agentToken (secret: string, agentId: AgentId): string {
  return `${agentId}.${signature(secret, agentId)}`
}

/** The agent a token was issued to, or null when it is not a token signed with `secret`. */
export function agentOfToken (secret: string, token: string): AgentId | null {
  // Agent ids may contain dots; the signature (base64url) never does.
  const dot = token.lastIndexOf('.')
  if (dot <= 0) return null
  const agentId = token.slice(0, dot)
  const presented = Buffer.from(token.slice(dot + 1))
  const expected = Buffer.from(signature(secret, agentId))
  return presented.length === expected.length && timingSafeEqual(presented, expected) ? agentId : null
}

function signature (secret: string, agentId: AgentId): string {
  return createHmac('sha256', secret).update(agentId).digest('base64url')
}
