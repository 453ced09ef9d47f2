import { isIP } from 'node:net'
import { envSchema } from 'env-schema'
import { Type, type Static } from 'typebox'

const seconds = (fallback: number, minimum = 0) => Type.Integer({ minimum, maximum: 86_400 * 365, default: fallback })

/** Every knob the service reads, with its default, in one place (contract §6). */
const EnvSchema = Type.Object({
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  DATA_DIR: Type.String({ minLength: 1, default: './.data' }),
  VALKEY_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  VALKEY_SENTINELS: Type.Optional(Type.String({ minLength: 1 })),
  VALKEY_SENTINEL_MASTER: Type.String({ pattern: '^[A-Za-z0-9._-]{1,128}$', default: 'mymaster' }),
  VALKEY_DB: Type.Integer({ minimum: 0, maximum: 15, default: 0 }),
  VALKEY_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  API_TOKEN: Type.Optional(Type.String()),
  AGENT_TOKEN: Type.Optional(Type.String()),
  AGENT_TOKEN_SECRET: Type.Optional(Type.String()),
  AGENT_ADDRESS_ALLOW: Type.Optional(Type.String()),
  HTTP_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 1, maximum: 600_000, default: 10_000 }),
  HTTP_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1, maximum: 600_000, default: 30_000 }),
  HTTP_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 1, maximum: 600_000, default: 65_000 }),
  PRESENCE_STALENESS_SEC: seconds(120, 1),
  PRESENCE_TTL_SEC: seconds(300, 1),
  SWEEP_INTERVAL_SEC: seconds(60),
  SWEEP_INITIAL_DELAY_SEC: seconds(30),
  SWEEP_LOCK_LIFETIME_SEC: seconds(30, 1),
  SWEEP_CONFIRMATIONS: Type.Integer({ minimum: 1, maximum: 10, default: 1 }),
  AGENT_RPC_TIMEOUT_MS: Type.Integer({ minimum: 1, maximum: 600_000, default: 5000 }),
  AGENT_RPC_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1024, default: 32 }),
  AGENT_RPC_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
  AGENT_BATCH_RETRY_SEC: seconds(600),
  AGENT_LOST_AFTER_SEC: seconds(600),
  GUARD_MAX_RATIO: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
  GUARD_MIN_KERNELS: Type.Integer({ minimum: 1, default: 10 }),
  SWEEP_RETENTION_HOURS: Type.Integer({ minimum: 1, default: 168 }),
  EVENT_RETENTION_HOURS: Type.Integer({ minimum: 1, default: 168 }),
  STARTUP_TIMEOUT_SEC: Type.Integer({ minimum: 0, maximum: 3_600, default: 60 }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
})

type Env = Static<typeof EnvSchema>

export interface Config {
  readonly host: string
  readonly port: number
  /** Null: embedded Postgres (PGlite) under `dataDir`. */
  readonly databaseUrl: string | null
  readonly dataDir: string
  /** Null: presence and schedule marks kept in process memory (unless `valkeySentinel` is set). */
  readonly valkeyUrl: string | null
  /** Valkey found through Sentinel (contract §7); never together with `valkeyUrl`. */
  readonly valkeySentinel: ValkeySentinelSettings | null
  /** Null: no authentication (a warning is logged at start). */
  readonly apiToken: string | null
  /** The shared agent token of v1: any agent's presence and reconcile routes (a warning says so). */
  readonly agentToken: string | null
  /** Signs per-agent tokens (contract §3): agent A's token is good for A's routes only. */
  readonly agentTokenSecret: string | null
  /** CIDR blocks an agent's address must be in to be registered; null: any address. */
  readonly agentAddressAllow: readonly string[] | null
  /** Most time to receive a request's headers. */
  readonly httpHeadersTimeoutMs: number
  /** Most time to receive a whole request, headers and body. */
  readonly httpRequestTimeoutMs: number
  /** How long an idle keep-alive connection is kept open. */
  readonly httpIdleTimeoutMs: number
  readonly presenceStalenessSec: number
  readonly presenceTtlSec: number
  /** 0 turns background sweeps off. */
  readonly sweepIntervalSec: number
  readonly sweepInitialDelaySec: number
  readonly sweepLockLifetimeSec: number
  /** Sweeps in a row whose agent answer says "dead" before a kernel is terminated (rule 11). */
  readonly sweepConfirmations: number
  readonly agentRpcTimeoutMs: number
  readonly agentRpcConcurrency: number
  /** Most kernels asked about in one batched agent call (contract §5). */
  readonly agentRpcBatchSize: number
  /** How long an agent without the batch route is asked per kernel before the batch is tried again. */
  readonly agentBatchRetrySec: number
  /** Rule 13: a suspect kernel of an agent unreachable longer than this is dead (AGENT_LOST); 0 never. */
  readonly agentLostAfterSec: number
  readonly guardMaxRatio: number
  readonly guardMinKernels: number
  readonly sweepRetentionHours: number
  /** Events older than this are pruned (rule 15); a reader behind them gets `410 cursor-expired`. */
  readonly eventRetentionHours: number
  /**
   * How long the start waits for Postgres and Valkey to answer before it gives up (exit 1). 0: it
   * tries Postgres once and does not wait for Valkey (a Valkey that is down is then reported by
   * `/readyz` and answered `503`, as it is when lost later).
   */
  readonly startupTimeoutSec: number
  readonly logLevel: Env['LOG_LEVEL']
}

/** `VALKEY_SENTINELS` and its companions: the master `masterName` as the sentinels say where it is. */
export interface ValkeySentinelSettings {
  readonly sentinels: ReadonlyArray<{ readonly host: string, readonly port: number }>
  readonly masterName: string
  readonly db: number
  /** The master's (and its replicas') password; none when unset. */
  readonly password: string | null
}

/** `VALKEY_SENTINELS`: `host:port,host:port,…` (an IPv6 address in brackets: `[::1]:26379`). */
function sentinelList (value: string): ValkeySentinelSettings['sentinels'] {
  return value.split(',').map((entry) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry.trim())
    const port = Number(match?.[3])
    if (match === null || port < 1 || port > 65535) throw new Error(`VALKEY_SENTINELS: ${JSON.stringify(entry)} is not host:port`)
    return { host: match[1] ?? match[2]!, port }
  })
}

/** Valkey through Sentinel, refused beside `VALKEY_URL`: two places for presence would be one too many. */
function valkeySentinel (parsed: Env, env: Record<string, string | undefined>): ValkeySentinelSettings | null {
  const companions = ['VALKEY_SENTINEL_MASTER', 'VALKEY_DB', 'VALKEY_PASSWORD'].filter((name) => env[name] !== undefined)
  if (parsed.VALKEY_URL !== undefined && (parsed.VALKEY_SENTINELS !== undefined || companions.length > 0)) {
    throw new Error(`VALKEY_URL excludes ${[...(parsed.VALKEY_SENTINELS === undefined ? [] : ['VALKEY_SENTINELS']), ...companions].join(', ')}: use one or the other (the database and password go in the URL)`)
  }
  if (parsed.VALKEY_SENTINELS === undefined) {
    if (companions.length > 0) throw new Error(`${companions.join(', ')} need VALKEY_SENTINELS`)
    return null
  }
  return {
    sentinels: sentinelList(parsed.VALKEY_SENTINELS),
    masterName: parsed.VALKEY_SENTINEL_MASTER,
    db: parsed.VALKEY_DB,
    password: parsed.VALKEY_PASSWORD ?? null,
  }
}

/** False for a token that could never match a request: empty, blank, or with spaces at either end (HTTP trims header values). */
export function isUsableToken (value: string): boolean {
  return /^\S(.*\S)?$/.test(value)
}

function token (name: string, value: string | undefined): string | null {
  if (value === undefined) return null
  if (!isUsableToken(value)) throw new Error(`${name} must not be empty, blank, or begin or end with whitespace`)
  return value
}

/** `AGENT_ADDRESS_ALLOW`: comma-separated CIDR blocks, IPv4 or IPv6 (`10.0.0.0/8,fd00::/8`). */
function cidrList (value: string | undefined): readonly string[] | null {
  if (value === undefined) return null
  const blocks = value.split(',').map((block) => block.trim())
  for (const block of blocks) {
    const [address = '', prefix = '', ...rest] = block.split('/')
    const family = isIP(address)
    const bits = Number(prefix)
    if (family === 0 || rest.length > 0 || !/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
      throw new Error(`AGENT_ADDRESS_ALLOW: ${JSON.stringify(block)} is not a CIDR block (address/prefix)`)
    }
  }
  return blocks
}

/** Every variable the service reads, with its default (undefined: unset unless given). */
export function knownSettings (): ReadonlyArray<{ readonly name: string, readonly default: unknown }> {
  return Object.entries(EnvSchema.properties).map(([name, schema]) => ({ name, default: (schema as { default?: unknown }).default }))
}

/** The prefixes of the service's own variables: a name with one of them that is not a setting is most likely a typo. */
const OWN_PREFIXES = /^(SWEEP|AGENT|PRESENCE|GUARD|VALKEY)_/

/**
 * Variables that look like settings of this service but are none (`SWEEP_INTERVAL` for
 * `SWEEP_INTERVAL_SEC`): the service would silently run with the default, so the start warns.
 */
export function unknownSettings (env: Record<string, string | undefined> = process.env): string[] {
  const known = new Set(knownSettings().map((setting) => setting.name))
  return Object.keys(env).filter((name) => OWN_PREFIXES.test(name) && !known.has(name)).sort()
}

/** Reads the configuration; throws, naming the variable, when a value is out of range or settings exclude each other. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema<Env>({ schema: EnvSchema, data: env })
  const apiToken = token('API_TOKEN', parsed.API_TOKEN)
  const agentToken = token('AGENT_TOKEN', parsed.AGENT_TOKEN)
  const agentTokenSecret = token('AGENT_TOKEN_SECRET', parsed.AGENT_TOKEN_SECRET)
  // Agent tokens without an API token would leave every other route open while seeming secured.
  if (apiToken === null && (agentToken !== null || agentTokenSecret !== null)) {
    throw new Error('AGENT_TOKEN and AGENT_TOKEN_SECRET need API_TOKEN: without it every other route is open')
  }
  // A record that expires before it can be stale never reads STALE: every quiet kernel would
  // become "no record" sooner than the staleness rule says.
  if (parsed.PRESENCE_TTL_SEC <= parsed.PRESENCE_STALENESS_SEC) {
    throw new Error(`PRESENCE_TTL_SEC (${parsed.PRESENCE_TTL_SEC}) must be greater than PRESENCE_STALENESS_SEC (${parsed.PRESENCE_STALENESS_SEC})`)
  }
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    databaseUrl: parsed.DATABASE_URL ?? null,
    dataDir: parsed.DATA_DIR,
    valkeyUrl: parsed.VALKEY_URL ?? null,
    valkeySentinel: valkeySentinel(parsed, env),
    apiToken,
    agentToken,
    agentTokenSecret,
    agentAddressAllow: cidrList(parsed.AGENT_ADDRESS_ALLOW),
    httpHeadersTimeoutMs: parsed.HTTP_HEADERS_TIMEOUT_MS,
    httpRequestTimeoutMs: parsed.HTTP_REQUEST_TIMEOUT_MS,
    httpIdleTimeoutMs: parsed.HTTP_IDLE_TIMEOUT_MS,
    presenceStalenessSec: parsed.PRESENCE_STALENESS_SEC,
    presenceTtlSec: parsed.PRESENCE_TTL_SEC,
    sweepIntervalSec: parsed.SWEEP_INTERVAL_SEC,
    sweepInitialDelaySec: parsed.SWEEP_INITIAL_DELAY_SEC,
    sweepLockLifetimeSec: parsed.SWEEP_LOCK_LIFETIME_SEC,
    sweepConfirmations: parsed.SWEEP_CONFIRMATIONS,
    agentRpcTimeoutMs: parsed.AGENT_RPC_TIMEOUT_MS,
    agentRpcConcurrency: parsed.AGENT_RPC_CONCURRENCY,
    agentRpcBatchSize: parsed.AGENT_RPC_BATCH_SIZE,
    agentBatchRetrySec: parsed.AGENT_BATCH_RETRY_SEC,
    agentLostAfterSec: parsed.AGENT_LOST_AFTER_SEC,
    guardMaxRatio: parsed.GUARD_MAX_RATIO,
    guardMinKernels: parsed.GUARD_MIN_KERNELS,
    sweepRetentionHours: parsed.SWEEP_RETENTION_HOURS,
    eventRetentionHours: parsed.EVENT_RETENTION_HOURS,
    startupTimeoutSec: parsed.STARTUP_TIMEOUT_SEC,
    logLevel: parsed.LOG_LEVEL,
  }
}
