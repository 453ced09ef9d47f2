import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { openPersistence } from '../../src/persistence/persistence.js'
import { runMigrations } from '../../src/persistence/migrate.js'
import { kernel } from '../helpers/persistence-contract.js'

t.test('embedded data survives a restart, and migrating again changes nothing', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kernel-sweeper-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const k = kernel()

  const first = await openPersistence({ databaseUrl: null, dataDir: join(dataDir, 'db') })
  await first.kernels.upsert(k)
  await first.close()

  const second = await openPersistence({ databaseUrl: null, dataDir: join(dataDir, 'db') })
  t.teardown(() => second.close())
  t.equal(second.db.kind, 'pglite')
  t.match(await second.kernels.get(k.id), k)
  t.same(await runMigrations(second.db), [], 'already up to date')
})
