import type { ScheduleType } from '../domain/schedule-type.js'
import type { Queryable } from './database.js'

/** A mark some committed sweep needs and that is not known to be set yet (rule 5). */
export interface ScheduleMarkNeed {
  readonly type: ScheduleType
  /** Which need this is: clearing it leaves a newer one of the same type in place. */
  readonly generation: string
}

/** The marks still to be set in Valkey, kept in the database with the terminations that need them. */
export class ScheduleMarkNeedRepository {
  constructor (private readonly db: Queryable) {}

  /** The same repository writing inside `tx`, so the need commits with the terminations. */
  within (tx: Queryable): ScheduleMarkNeedRepository {
    return new ScheduleMarkNeedRepository(tx)
  }

  async need (types: readonly ScheduleType[]): Promise<void> {
    if (types.length === 0) return
    await this.db.query(
      `INSERT INTO schedule_mark_needs (schedule_type) SELECT unnest($1::text[])
       ON CONFLICT (schedule_type) DO UPDATE SET generation = schedule_mark_needs.generation + 1, needed_at = now()`,
      [types]
    )
  }

  async pending (): Promise<ScheduleMarkNeed[]> {
    const rows = await this.db.query<{ schedule_type: ScheduleType, generation: string }>(
      'SELECT schedule_type, generation::text FROM schedule_mark_needs ORDER BY schedule_type'
    )
    return rows.map((row) => ({ type: row.schedule_type, generation: row.generation }))
  }

  /** The marks were set: these needs are met (a need raised again since stays). */
  async clear (needs: readonly ScheduleMarkNeed[]): Promise<void> {
    if (needs.length === 0) return
    await this.db.query(
      `DELETE FROM schedule_mark_needs n USING unnest($1::text[], $2::bigint[]) AS met(schedule_type, generation)
       WHERE n.schedule_type = met.schedule_type AND n.generation = met.generation`,
      [needs.map((need) => need.type), needs.map((need) => need.generation)]
    )
  }
}
