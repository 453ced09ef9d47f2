import pg from 'pg'
import Cursor from 'pg-cursor'
import { type Database, DatabaseUnavailableError, type Queryable, type Session } from './database.js'

export interface PostgresDatabaseOptions {
  readonly connectionString: string
  /** Schema to work in (tests isolate themselves this way); the server's default otherwise. */
  readonly schema?: string
  readonly maxConnections?: number
  /** Bound on waiting for a connection, so an outage answers quickly instead of hanging. */
  readonly connectionTimeoutMs?: number
}

// Connection-level failures (as opposed to a bad statement): socket errors, the server going
// away (class 08, 57P0x) or a pool that cannot connect in time.
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'])
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/

function isConnectionFailure (error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code))) return true
  return UNAVAILABLE_MESSAGES.test(error.message)
}

function translate (error: unknown): unknown {
  return isConnectionFailure(error)
    ? new DatabaseUnavailableError(`database unavailable: ${(error as Error).message}`, { cause: error })
    : error
}

/** Statements on a pool or one connection, with connection failures as `DatabaseUnavailableError`. */
export function queryableOf (client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      try {
        const result = await client.query(sql, params as unknown[] | undefined)
        return result.rows as Row[]
      } catch (error) {
        throw translate(error)
      }
    },
  }
}

/** `PostgreSQL at host:port/database`, from a connection string, without user or password. */
function locationOf (connectionString: string): string {
  try {
    const url = new URL(connectionString)
    return `PostgreSQL at ${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`
  } catch {
    return 'PostgreSQL' // a key=value connection string: nothing in it is shown
  }
}

export class PostgresDatabase implements Database {
  readonly kind = 'postgres'
  readonly location: string
  private readonly pool: pg.Pool
  private readonly queryable: Queryable

  constructor (private readonly options: PostgresDatabaseOptions) {
    this.location = locationOf(options.connectionString)
    this.pool = new pg.Pool({ ...this.clientConfig(), max: options.maxConnections ?? 10 })
    // An idle connection the server drops must not crash the process; the pool replaces it.
    this.pool.on('error', () => {})
    this.queryable = queryableOf(this.pool)
  }

  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.queryable.query<Row>(sql, params)
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      const tx = queryableOf(client)
      await tx.query('BEGIN')
      try {
        const result = await work(tx)
        await tx.query('COMMIT')
        return result
      } catch (error) {
        await tx.query('ROLLBACK').catch(() => {})
        throw error
      }
    })
  }

  async withSession<T>(work: (session: Session) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      const session = queryableOf(client)
      return work({ query: session.query, exec: async (script) => { await session.query(script) } })
    })
  }

  /**
   * A portal read `pageSize` rows at a time (pg-cursor) on a connection held until the last page
   * or an early exit. The next page is asked for before this one is handed out, so the server
   * produces it while the caller works.
   */
  async * pages<Row>(sql: string, params: readonly unknown[], pageSize: number): AsyncGenerator<Row[]> {
    const held = await this.hold()
    const cursor = held.client.query(new Cursor<Row>(sql, params as unknown[]))
    let next: Promise<Row[]> | null = cursor.read(pageSize)
    try {
      while (next !== null) {
        const rows: Row[] = await next
        next = rows.length < pageSize ? null : cursor.read(pageSize)
        // Read ahead, it is awaited (or its failure dropped with the connection) on the next turn.
        next?.catch(() => {})
        if (rows.length > 0) yield rows
      }
    } catch (error) {
      held.fail(error)
      throw translate(error)
    } finally {
      // A portal that would not close leaves the connection in an unknown state: it is not pooled again.
      const closed = await cursor.close().then(() => true, () => false)
      held.release(!closed)
    }
  }

  /**
   * A connection of its own, outside the pool and not yet connected, for work that holds one for
   * good (LISTEN); `applicationName` tells it apart in pg_stat_activity.
   */
  newClient (applicationName: string): pg.Client {
    return new pg.Client({ ...this.clientConfig(), application_name: applicationName })
  }

  async close (): Promise<void> {
    await this.pool.end()
  }

  private clientConfig (): pg.ClientConfig {
    return {
      connectionString: this.options.connectionString,
      connectionTimeoutMillis: this.options.connectionTimeoutMs ?? 5_000,
      ...(this.options.schema === undefined ? {} : { options: `-c search_path=${this.options.schema}` }),
    }
  }

  private async withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const held = await this.hold()
    try {
      return await work(held.client)
    } catch (error) {
      held.fail(error)
      throw error
    } finally {
      held.release()
    }
  }

  /**
   * A pooled connection taken out; `fail` notes an error seen on it, and `release` destroys it
   * rather than pooling it again if that error (or one it emitted meanwhile) broke it, or if asked to.
   */
  private async hold (): Promise<{ client: pg.PoolClient, fail: (error: unknown) => void, release: (destroy?: boolean) => void }> {
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (error) {
      throw translate(error)
    }
    let broken: unknown
    // A connection that dies while held must not crash the process; it is destroyed on release.
    const onError = (error: unknown): void => { broken = error }
    client.on('error', onError)
    return {
      client,
      fail: (error) => {
        if (isConnectionFailure(error) || error instanceof DatabaseUnavailableError) broken ??= error
      },
      release: (destroy = false) => {
        client.off('error', onError)
        client.release(destroy || broken !== undefined ? true : undefined)
      },
    }
  }
}
