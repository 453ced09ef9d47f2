// `npm run migrate`: brings the configured database's schema up to date, then exits.
import { loadConfig } from '../config.js'
import { runMigrations } from './migrate.js'
import { openDatabase } from './persistence.js'

const config = loadConfig()
const db = await openDatabase(config)
try {
  const applied = await runMigrations(db)
  const where = config.databaseUrl === null ? `embedded database in ${config.dataDir}` : 'DATABASE_URL'
  process.stdout.write(applied.length === 0
    ? `kernel-sweeper: ${where} is up to date\n`
    : `kernel-sweeper: applied migrations ${applied.join(', ')} to ${where}\n`)
} finally {
  await db.close()
}
