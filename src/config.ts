import { envSchema } from 'env-schema'
import { Type, type Static } from 'typebox'

/** Every knob the service reads, with its default, in one place (contract §6). */
const EnvSchema = Type.Object({
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  DATA_DIR: Type.String({ minLength: 1, default: './.data' }),
  AGENT_RPC_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1024, default: 32 }),
})

type Env = Static<typeof EnvSchema>

export interface Config {
  readonly host: string
  readonly port: number
  readonly logLevel: Env['LOG_LEVEL']
  /** Null: embedded Postgres (PGlite) under `dataDir`. */
  readonly databaseUrl: string | null
  readonly dataDir: string
  readonly agentRpcConcurrency: number
}

/** Reads the configuration; throws, naming the variable, when a value is out of range. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema<Env>({ schema: EnvSchema, data: env })
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    logLevel: parsed.LOG_LEVEL,
    databaseUrl: parsed.DATABASE_URL ?? null,
    dataDir: parsed.DATA_DIR,
    agentRpcConcurrency: parsed.AGENT_RPC_CONCURRENCY,
  }
}
