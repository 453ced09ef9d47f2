import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import type { Database, Queryable, Session } from './database.js'
import { seedFromTemplate } from './pglite-template.js'

function queryableOf (db: PGlite | Transaction): Queryable {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      const result = await db.query<Row>(sql, params as unknown[] | undefined)
      return result.rows
    },
  }
}

/**
 * Embedded Postgres (PGlite) for running without a database server. It is a single session: calls
 * are queued one after another, and advisory locks always succeed, so locking is done in process.
 */
export class PGliteDatabase implements Database {
  readonly kind = 'pglite'
  private readonly queryable: Queryable

  private constructor (private readonly db: PGlite, readonly location: string) {
    this.queryable = queryableOf(db)
  }

  /**
   * Opens the database kept under `dataDir`, a new one starting as a copy of the build's template
   * when there is one (pglite-template.ts); `memory://` keeps it in memory only.
   */
  static async open (dataDir: string): Promise<PGliteDatabase> {
    if (!dataDir.startsWith('memory://')) {
      await mkdir(dirname(dataDir), { recursive: true })
      if (!(await seedFromTemplate(dataDir))) await mkdir(dataDir, { recursive: true })
    }
    return new PGliteDatabase(await PGlite.create(dataDir, {
      // PGlite's default 128 MB of shared buffers more than doubles the process's resident memory
      // (measured: 739 MB against 299 MB right after start); an embedded sweeper's working set
      // is a few tables of ids.
      postgresqlconf: ['shared_buffers=16MB'],
    }), `embedded PostgreSQL (PGlite) in ${dataDir}`)
  }

  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.queryable.query<Row>(sql, params)
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(queryableOf(tx)))
  }

  /** One session, so nothing would run beside a paged read: the result is read whole and handed out in pages. */
  async * pages<Row>(sql: string, params: readonly unknown[], pageSize: number): AsyncGenerator<Row[]> {
    const rows = await this.query<Row>(sql, params)
    for (let start = 0; start < rows.length; start += pageSize) yield rows.slice(start, start + pageSize)
  }

  withSession<T>(work: (session: Session) => Promise<T>): Promise<T> {
    return work({ query: this.queryable.query, exec: async (script) => { await this.db.exec(script) } })
  }

  /**
   * Calls `onNotify` with the payload of every notification on `channel` (delivered when the
   * notifying transaction commits); resolves, once listening, to a function that stops it.
   */
  async listen (channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.db.listen(channel, onNotify)
    return () => unlisten()
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}
