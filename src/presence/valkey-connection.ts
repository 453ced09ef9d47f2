import { Redis } from 'ioredis'

/** Valkey found through Sentinel (contract §7): the master the sentinels name `masterName`. */
export interface ValkeySentinelTarget {
  readonly sentinels: ReadonlyArray<{ readonly host: string, readonly port: number }>
  readonly masterName: string
  readonly db: number
  readonly password: string | null
}

/** One Valkey at a URL (`redis://host:port/db`; Backend.AI uses database 2), or a master through Sentinel. */
export type ValkeyTarget = { readonly url: string } | { readonly sentinel: ValkeySentinelTarget }

export interface ValkeyConnectionOptions {
  readonly connectTimeoutMs: number
  /** Bound on one command, so a hung server answers with an error, not a hang. */
  readonly commandTimeoutMs: number
}

/** What the service's connections are called in `CLIENT LIST`, so an operator can tell them apart. */
export const CONNECTION_NAME = 'kernel-sweeper'

/**
 * A connection that fails fast while it is down and comes back by itself. Through Sentinel, ioredis
 * asks the sentinels for the master at every connection, checks the node it reaches is a master,
 * and with `failoverDetector` drops the connection as soon as the sentinels announce a new master,
 * so a demoted master is never read from or written to; a `READONLY` answer (a master demoted
 * under an open connection) drops it too.
 */
export function connectValkey (target: ValkeyTarget, options: ValkeyConnectionOptions): Redis {
  const common = {
    connectionName: CONNECTION_NAME,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    // Fail at once while disconnected instead of queueing: a sweep must get its answer (503)
    // in bounded time, and nothing piles up to be replayed when the server returns.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Reconnect forever in the background, at most every two seconds: recovery needs no restart.
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 2_000),
    // Reconnect (1), but never send the refused command again (2): a write is retried by its caller.
    reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? 1 as const : false),
  }
  if ('url' in target) return new Redis(target.url, common)
  const { sentinel } = target
  return new Redis({
    ...common,
    sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
    name: sentinel.masterName,
    role: 'master' as const,
    db: sentinel.db,
    ...(sentinel.password === null ? {} : { password: sentinel.password }),
    failoverDetector: true,
    sentinelCommandTimeout: options.connectTimeoutMs,
  })
}

/** `host:port` of a connected socket (an IPv6 address in brackets); null when not connected. */
export function peerOf (redis: Redis): string | null {
  const { remoteAddress, remotePort } = redis.stream ?? {}
  if (remoteAddress === undefined || remotePort === undefined) return null
  return `${remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress}:${remotePort}`
}

/**
 * Where presence is, for operators (`/readyz`, the start-up line, logs), never with credentials:
 * `Valkey at host:port/db`, or through Sentinel the master in use (`master`, its `host:port`).
 */
export function describeValkey (target: ValkeyTarget, master: string | null): string {
  if ('url' in target) {
    const url = new URL(target.url)
    return `Valkey at ${url.hostname}:${url.port || '6379'}/${url.pathname.slice(1) || '0'}`
  }
  const { sentinel } = target
  const sentinels = sentinel.sentinels.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',')
  return `Valkey master ${sentinel.masterName} ${master === null ? '(none found yet)' : `at ${master}`}/${sentinel.db} through sentinels ${sentinels}`
}
