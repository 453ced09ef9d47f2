import type { AgentRecord, AgentRegistration } from '../domain/agent.js'
import type { AgentId } from '../domain/kernel-info.js'
import type { Queryable } from './database.js'

interface AgentRow {
  id: string
  address: string
  scaling_group: string
  registered_at: Date
}

function recordOf (row: AgentRow): AgentRecord {
  return { id: row.id, address: row.address, scalingGroup: row.scaling_group, registeredAt: row.registered_at }
}

export class AgentRepository {
  constructor (private readonly db: Queryable) {}

  /** Registers an agent, or re-registers it at a new address; `registered_at` is the latest registration. */
  async upsert (agent: AgentRegistration): Promise<AgentRecord> {
    const [row] = await this.db.query<AgentRow>(
      `INSERT INTO agents (id, address, scaling_group) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET address = excluded.address, scaling_group = excluded.scaling_group,
                                      registered_at = now()
       RETURNING id, address, scaling_group, registered_at`,
      [agent.id, agent.address, agent.scalingGroup]
    )
    return recordOf(row!)
  }

  async get (agentId: AgentId): Promise<AgentRecord | null> {
    const [row] = await this.db.query<AgentRow>(
      'SELECT id, address, scaling_group, registered_at FROM agents WHERE id = $1', [agentId]
    )
    return row === undefined ? null : recordOf(row)
  }

  async list (scalingGroup?: string): Promise<AgentRecord[]> {
    const rows = await this.db.query<AgentRow>(
      `SELECT id, address, scaling_group, registered_at FROM agents
       WHERE ($1::text IS NULL OR scaling_group = $1) ORDER BY id`,
      [scalingGroup ?? null]
    )
    return rows.map(recordOf)
  }
}
