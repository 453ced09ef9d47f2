import type { AgentReachabilityReport, AgentRecord, AgentRegistration, AgentStatus } from '../domain/agent.js'
import { NAME_PATTERN, type AgentId } from '../domain/kernel-info.js'
import type { Queryable } from './database.js'
import { decodeCursor, encodeCursor } from './cursor.js'

interface AgentRow {
  id: string
  address: string
  scaling_group: string
  registered_at: Date
  last_reached_at: Date | null
  unreachable_since: Date | null
  decommissioned_at: Date | null
  status: AgentStatus
}

function recordOf (row: AgentRow): AgentRecord {
  return {
    id: row.id,
    address: row.address,
    scalingGroup: row.scaling_group,
    registeredAt: row.registered_at,
    lastReachedAt: row.last_reached_at,
    unreachableSince: row.unreachable_since,
    decommissionedAt: row.decommissioned_at,
    status: row.status,
  }
}

export interface AgentListQuery {
  readonly scalingGroup?: string
  readonly status?: AgentStatus
  readonly limit: number
  readonly cursor?: string
}

export interface AgentPage {
  readonly items: readonly AgentRecord[]
  readonly nextCursor: string | null
}

export interface AgentRepositoryOptions {
  /** `AGENT_LOST_AFTER_SEC`: how long unreachable before LOST; 0 never. */
  readonly lostAfterSec: number
}

// Contract §1's agent status, derived on the database's clock; $1 is AGENT_LOST_AFTER_SEC.
const STATUS_SQL = `CASE
  WHEN decommissioned_at IS NOT NULL THEN 'DECOMMISSIONED'
  WHEN unreachable_since IS NULL THEN 'ALIVE'
  WHEN $1::integer > 0 AND unreachable_since < now() - make_interval(secs => $1::integer) THEN 'LOST'
  ELSE 'UNREACHABLE' END`
const COLUMNS = `id, address, scaling_group, registered_at, last_reached_at, unreachable_since, decommissioned_at, ${STATUS_SQL} AS status`

export class AgentRepository {
  constructor (private readonly db: Queryable, private readonly options: AgentRepositoryOptions) {}

  /** The same repository writing inside `tx`, so what a sweep learned commits with the sweep. */
  within (tx: Queryable): AgentRepository {
    return new AgentRepository(tx, this.options)
  }

  /**
   * Registers an agent, or registers it again (maybe at a new address): `registered_at` is the
   * latest registration, and what sweeps learned of it before is forgotten, decommissioning too.
   */
  async upsert (agent: AgentRegistration): Promise<AgentRecord> {
    const [row] = await this.db.query<AgentRow>(
      `INSERT INTO agents (id, address, scaling_group) VALUES ($2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET address = excluded.address, scaling_group = excluded.scaling_group,
         registered_at = now(), unreachable_since = NULL, decommissioned_at = NULL
       RETURNING ${COLUMNS}`,
      [this.options.lostAfterSec, agent.id, agent.address, agent.scalingGroup]
    )
    return recordOf(row!)
  }

  async get (agentId: AgentId): Promise<AgentRecord | null> {
    const [row] = await this.db.query<AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE id = $2`, [this.options.lostAfterSec, agentId])
    return row === undefined ? null : recordOf(row)
  }

  /** A page in id order; `nextCursor` is null on the last page. */
  async list (query: AgentListQuery): Promise<AgentPage> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor, (id) => NAME_PATTERN.test(id))
    const rows = await this.db.query<AgentRow>(
      `SELECT * FROM (SELECT ${COLUMNS} FROM agents) a
       WHERE ($2::text IS NULL OR scaling_group = $2) AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR id > $4)
       ORDER BY id LIMIT $5`,
      [this.options.lostAfterSec, query.scalingGroup ?? null, query.status ?? null, after, query.limit + 1]
    )
    const items = rows.slice(0, query.limit).map(recordOf)
    const last = items.at(-1)
    return { items, nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last.id) : null }
  }

  /** Where each of `agentIds` that is registered answers. */
  async addressesOf (agentIds: readonly AgentId[]): Promise<Map<AgentId, string>> {
    if (agentIds.length === 0) return new Map()
    const rows = await this.db.query<{ id: string, address: string }>('SELECT id, address FROM agents WHERE id = ANY($1::text[])', [agentIds])
    return new Map(rows.map((row) => [row.id, row.address]))
  }

  /** The status of each of `agentIds` that is registered, as a sweep starts. */
  async statusesOf (agentIds: readonly AgentId[]): Promise<Map<AgentId, AgentStatus>> {
    if (agentIds.length === 0) return new Map()
    const rows = await this.db.query<{ id: string, status: AgentStatus }>(
      `SELECT id, ${STATUS_SQL} AS status FROM agents WHERE id = ANY($2::text[])`, [this.options.lostAfterSec, agentIds]
    )
    return new Map(rows.map((row) => [row.id, row.status]))
  }

  /** Rule 12: reached agents are ALIVE again; unreachable ones keep the first moment they were. */
  async recordReachability (report: AgentReachabilityReport): Promise<void> {
    if (report.reached.length > 0) {
      await this.db.query('UPDATE agents SET last_reached_at = now(), unreachable_since = NULL WHERE id = ANY($1::text[])', [report.reached])
    }
    if (report.unreachable.length > 0) {
      await this.db.query('UPDATE agents SET unreachable_since = COALESCE(unreachable_since, now()) WHERE id = ANY($1::text[])', [report.unreachable])
    }
  }

  /** Rule 14: never asked again until registered anew. */
  async markDecommissioned (agentIds: readonly AgentId[]): Promise<void> {
    if (agentIds.length === 0) return
    await this.db.query('UPDATE agents SET decommissioned_at = now() WHERE id = ANY($1::text[])', [agentIds])
  }

  /** How many agents each scaling group has in each status (statuses with none are left out): the agents gauge. */
  async countByStatus (): Promise<Array<{ scalingGroup: string, status: AgentStatus, count: number }>> {
    const rows = await this.db.query<{ scaling_group: string, status: AgentStatus, count: number }>(
      `SELECT scaling_group, status, count(*)::int AS count FROM (SELECT scaling_group, ${STATUS_SQL} AS status FROM agents) a
       GROUP BY scaling_group, status ORDER BY scaling_group, status`,
      [this.options.lostAfterSec]
    )
    return rows.map((row) => ({ scalingGroup: row.scaling_group, status: row.status, count: row.count }))
  }
}
