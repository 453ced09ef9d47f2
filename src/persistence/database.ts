/** Anything that runs one parameterized statement: the database, a transaction, a session. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>
}

/** One connection held for a while: advisory locks and migrations need the same session throughout. */
export interface Session extends Queryable {
  /** Runs a script of several statements (no parameters). */
  exec (script: string): Promise<void>
}

/**
 * Port to the relational store. The repositories speak only this, so real Postgres and embedded
 * PGlite go through one code path.
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite'
  /** Where the data is, for operators (`/readyz`, logs): never credentials. */
  readonly location: string
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * The rows of one statement, `pageSize` at a time as the server sends them, so a large result is
   * worked on while the rest is read. Leaving the iteration early frees the connection.
   */
  pages<Row>(sql: string, params: readonly unknown[], pageSize: number): AsyncIterable<Row[]>
  withSession<T>(work: (session: Session) => Promise<T>): Promise<T>
  close (): Promise<void>
}

/** The database cannot be reached or dropped the connection: the caller answers 503, not 500. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError'
}
