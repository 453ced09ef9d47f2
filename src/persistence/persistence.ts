import pino from 'pino'
import type { Logger } from '../logger.js'
import { AgentRepository } from './agent-repository.js'
import { ConfirmationRepository } from './confirmation-repository.js'
import type { Database } from './database.js'
import type { EventNotifier } from './event-notifier.js'
import { EventRepository } from './event-repository.js'
import { KernelHistoryRepository } from './kernel-history-repository.js'
import { KernelRepository } from './kernel-repository.js'
import { KernelStateEngine } from './kernel-state-engine.js'
import { InProcessLockFactory } from './locks/in-process-lock-factory.js'
import type { LockFactory } from './locks/lock-factory.js'
import { PostgresLockFactory } from './locks/postgres-lock-factory.js'
import { runMigrations } from './migrate.js'
import { PGliteDatabase } from './pglite-database.js'
import { PGliteEventNotifier } from './pglite-event-notifier.js'
import { PostgresDatabase } from './postgres-database.js'
import { PostgresEventNotifier } from './postgres-event-notifier.js'
import { ScheduleMarkNeedRepository } from './schedule-mark-need-repository.js'
import { SweepRepository } from './sweep-repository.js'

export interface DatabaseSettings {
  /** A Postgres server; unset means embedded PGlite under `dataDir`. */
  readonly databaseUrl: string | null
  readonly dataDir: string
}

/** The database, its repositories and the lock factory that fits it. */
export interface Persistence {
  readonly db: Database
  readonly locks: LockFactory
  readonly kernels: KernelRepository
  readonly agents: AgentRepository
  readonly sweeps: SweepRepository
  readonly history: KernelHistoryRepository
  readonly confirmations: ConfirmationRepository
  readonly stateEngine: KernelStateEngine
  readonly events: EventRepository
  /** Wakes readers of the event log when events commit, on this instance or another. */
  readonly eventNotifier: EventNotifier
  /** Schedule marks committed sweeps need and that are not known to be set (rule 5). */
  readonly scheduleMarkNeeds: ScheduleMarkNeedRepository
  close (): Promise<void>
}

export function openDatabase (settings: DatabaseSettings): Promise<Database> {
  return settings.databaseUrl === null
    ? PGliteDatabase.open(settings.dataDir)
    : Promise.resolve(new PostgresDatabase({ connectionString: settings.databaseUrl }))
}

export interface PersistenceOptions {
  /** `AGENT_LOST_AFTER_SEC`: agents unreachable longer than this read as LOST (0: never). */
  readonly agentLostAfterSec?: number
  /** Where the event notifier reports a lost connection; pino at `warn` otherwise. */
  readonly logger?: Logger
  /** Resolves once the database answers, before migrations run (the start's retries); one attempt otherwise. */
  readonly untilAnswering?: (db: Database) => Promise<void>
}

/** Postgres: a LISTEN connection of its own; PGlite: its one session, in process. */
function eventNotifierFor (db: Database, logger: Logger | undefined): EventNotifier {
  if (db instanceof PGliteDatabase) return new PGliteEventNotifier(db)
  if (db instanceof PostgresDatabase) {
    return new PostgresEventNotifier({
      newClient: () => db.newClient('kernel-sweeper-events'),
      logger: logger ?? pino({ level: 'warn' }),
    })
  }
  throw new TypeError(`no event notifier for this ${db.kind} database`)
}

/** Wires repositories over a database; the caller chooses the lock factory that fits it. */
export function persistenceOver (db: Database, locks: LockFactory, options: PersistenceOptions = {}): Persistence {
  const eventNotifier = eventNotifierFor(db, options.logger)
  return {
    db,
    locks,
    kernels: new KernelRepository(db),
    agents: new AgentRepository(db, { lostAfterSec: options.agentLostAfterSec ?? 600 }),
    sweeps: new SweepRepository(db),
    history: new KernelHistoryRepository(db),
    confirmations: new ConfirmationRepository(db),
    stateEngine: new KernelStateEngine(db),
    events: new EventRepository(db),
    eventNotifier,
    scheduleMarkNeeds: new ScheduleMarkNeedRepository(db),
    close: async () => {
      await eventNotifier.close()
      await locks.close()
      await db.close()
    },
  }
}

/** Opens the configured database, brings its schema up to date, and wires everything over it. */
export async function openPersistence (settings: DatabaseSettings & PersistenceOptions): Promise<Persistence> {
  const db = await openDatabase(settings)
  try {
    await settings.untilAnswering?.(db)
    await runMigrations(db)
  } catch (error) {
    await db.close()
    throw error
  }
  // Embedded mode is one process on one PGlite session, whose advisory locks always succeed.
  const locks = settings.databaseUrl === null
    ? new InProcessLockFactory(db)
    : new PostgresLockFactory({ connectionString: settings.databaseUrl })
  return persistenceOver(db, locks, settings)
}
