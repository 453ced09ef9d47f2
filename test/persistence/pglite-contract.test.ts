import t from 'tap'
import { runMigrations } from '../../src/persistence/migrate.js'
import { PGliteDatabase } from '../../src/persistence/pglite-database.js'
import { persistenceContract } from '../helpers/persistence-contract.js'

t.test('persistence contract on embedded PGlite', async (t) => {
  await persistenceContract(t, async () => {
    const db = await PGliteDatabase.open('memory://')
    t.teardown(() => db.close())
    await runMigrations(db)
    return db
  })
})
