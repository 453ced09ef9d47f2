import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { runMigrations } from '../../src/persistence/migrate.js'
import { PGliteDatabase } from '../../src/persistence/pglite-database.js'
import { dropTemplateDatabases, isTemplateCurrent, makeTemplate, seedFromTemplate } from '../../src/persistence/pglite-template.js'
import { migrationVersions } from '../helpers/postgres.js'

// A new embedded database starts as a copy of a template made at build time (P5); these tests make
// a template of their own, in a scratch folder, and never touch the build's.

async function scratch (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kernel-sweeper-template-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function migratedTemplate (t: Test): Promise<string> {
  const template = join(await scratch(t), 'template')
  await makeTemplate(async (dataDir) => {
    const db = await PGliteDatabase.open(dataDir)
    await runMigrations(db)
    await dropTemplateDatabases(db)
    await db.close()
  }, template)
  return template
}

const template = await migratedTemplate(t)

t.test('a template is current for the PGlite and the migrations that made it', async (t) => {
  t.ok(await isTemplateCurrent(template))
  const mark = JSON.parse(await readFile(`${template}.json`, 'utf8')) as { pglite: string, migrations: string[] }
  t.match(mark.pglite, /^\d+\.\d+\.\d+/)
  t.equal(mark.migrations.filter((name) => name.includes('.do.')).length, migrationVersions().length)
  t.notOk(await isTemplateCurrent(join(template, 'missing')), 'no template is not a current one')
})

t.test('a new data dir starts from the template, migrated, and is a database of its own', async (t) => {
  const dataDir = join(await scratch(t), 'nested', 'db')
  t.ok(await seedFromTemplate(dataDir, template), 'a missing directory is seeded')
  const db = await PGliteDatabase.open(dataDir)
  t.same(await runMigrations(db), [], 'nothing left to migrate')
  t.same(await db.query('SELECT datname FROM pg_database'), [{ datname: 'postgres' }], 'the one database the service uses, without template0 and template1')
  await db.query("INSERT INTO agents (id, address, scaling_group) VALUES ('a1', 'http://127.0.0.1:9', 'default')")
  await db.close()
  const reopened = await PGliteDatabase.open(template)
  t.same(await reopened.query('SELECT id FROM agents'), [], 'the template itself is untouched')
  await reopened.close()
  t.same((await readdir(join(dataDir, '..'))).sort(), ['db'], 'no scratch copy is left beside it')
})

t.test('an empty directory is seeded; one with anything in it never is', async (t) => {
  const root = await scratch(t)
  await mkdir(join(root, 'empty'))
  t.ok(await seedFromTemplate(join(root, 'empty'), template))
  t.ok((await readdir(join(root, 'empty'))).includes('PG_VERSION'))
  await mkdir(join(root, 'used'))
  await writeFile(join(root, 'used', 'notes.txt'), 'somebody else\'s')
  t.notOk(await seedFromTemplate(join(root, 'used'), template))
  t.same(await readdir(join(root, 'used')), ['notes.txt'], 'left as it was')
})

t.test('a template made by another PGlite, from other migrations, or in an earlier way, is not used', async (t) => {
  const stale = await migratedTemplate(t)
  const mark = JSON.parse(await readFile(`${stale}.json`, 'utf8')) as { pglite: string, migrations: string[] }
  await writeFile(`${stale}.json`, JSON.stringify({ ...mark, pglite: '0.0.1' }))
  t.notOk(await isTemplateCurrent(stale))
  t.notOk(await seedFromTemplate(join(await scratch(t), 'db'), stale), 'another PGlite')
  await writeFile(`${stale}.json`, JSON.stringify({ ...mark, migrations: mark.migrations.slice(1) }))
  t.notOk(await seedFromTemplate(join(await scratch(t), 'db'), stale), 'other migrations')
  await writeFile(`${stale}.json`, JSON.stringify({ ...mark, layout: 1 }))
  t.notOk(await seedFromTemplate(join(await scratch(t), 'db'), stale), 'made the way of an earlier build')
})
