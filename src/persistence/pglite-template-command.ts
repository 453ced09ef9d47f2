// Part of `npm run build`: makes the embedded database's template (dist/pglite-template) unless the
// one there was made by the installed PGlite from the same migrations.
import { runMigrations } from './migrate.js'
import { PGliteDatabase } from './pglite-database.js'
import { dropTemplateDatabases, isTemplateCurrent, makeTemplate } from './pglite-template.js'

if (await isTemplateCurrent()) {
  process.stdout.write('kernel-sweeper: the embedded database template is up to date\n')
} else {
  await makeTemplate(async (dataDir) => {
    const db = await PGliteDatabase.open(dataDir)
    try {
      await runMigrations(db)
      await dropTemplateDatabases(db)
    } finally {
      await db.close()
    }
  })
  process.stdout.write('kernel-sweeper: made the embedded database template (dist/pglite-template)\n')
}
