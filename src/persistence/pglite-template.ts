import { constants } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import pLimit from 'p-limit'
import { packageRoot } from '../package-info.js'
import type { Database } from './database.js'

/*
 * A new embedded database starts as a copy of one made at build time. PGlite's initdb takes
 * 3–6 s and leaves the process holding 700 MB (the WebAssembly memory it grew never shrinks);
 * opening a data directory that already exists takes about a second and some 240 MB
 * (BENCHMARKS.md, P5). The copy is only used when it was made by the PGlite that is installed:
 * a data directory is tied to its Postgres build.
 */

interface TemplateMark {
  /** How the template is made: a template made otherwise is made again. */
  readonly layout: number
  /** The PGlite package that made the template. */
  readonly pglite: string
  /** The migrations the template's schema has; newer ones are applied at start as usual. */
  readonly migrations: readonly string[]
}

// 2: without the databases template0 and template1.
const TEMPLATE_LAYOUT = 2

/** Where the build puts the template; its mark is the `.json` file beside it. */
export const BUILD_TEMPLATE_DIR = join(packageRoot(), 'dist', 'pglite-template')
const markFileOf = (templateDir: string): string => `${templateDir}.json`

async function installedPGliteVersion (): Promise<string> {
  // The package's exports do not include its package.json; its entry point sits in dist/.
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'))
  const manifest = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
  return manifest.version
}

async function currentMark (): Promise<TemplateMark> {
  const migrations = (await readdir(join(packageRoot(), 'migrations'))).filter((name) => name.endsWith('.sql')).sort()
  return { layout: TEMPLATE_LAYOUT, pglite: await installedPGliteVersion(), migrations }
}

async function templateMark (templateDir: string): Promise<TemplateMark | null> {
  try {
    return JSON.parse(await readFile(markFileOf(templateDir), 'utf8')) as TemplateMark
  } catch {
    return null
  }
}

/** Whether the template on disk was made from this PGlite and these migrations. */
export async function isTemplateCurrent (templateDir = BUILD_TEMPLATE_DIR): Promise<boolean> {
  const [made, wanted] = await Promise.all([templateMark(templateDir), currentMark()])
  return made !== null && JSON.stringify(made) === JSON.stringify(wanted)
}

/**
 * Drops the databases `template0` and `template1` from an embedded database. The service works in
 * PGlite's one database, `postgres`, and never runs `CREATE DATABASE`, for which the two exist;
 * without them a new data directory has some 400 files to create instead of 1,000, and creating
 * a file is most of what copying the template costs (P5: 0.8 ms a file in some directories of
 * this machine's disk).
 */
export async function dropTemplateDatabases (db: Database): Promise<void> {
  await db.withSession(async (session) => {
    const present = await session.query<{ name: string }>("SELECT datname AS name FROM pg_database WHERE datname IN ('template0', 'template1')")
    for (const { name } of present) {
      // One statement a call: DROP DATABASE cannot run in a multi-statement string.
      await session.exec(`ALTER DATABASE ${name} IS_TEMPLATE false`)
      await session.exec(`DROP DATABASE ${name}`)
    }
  })
}

/**
 * Makes the template with `initialise`, which must leave a closed, migrated database in the
 * directory it is given. Written beside the final place and renamed into it, so a build that stops
 * half-way leaves no template rather than a broken one.
 */
export async function makeTemplate (initialise: (dataDir: string) => Promise<void>, templateDir = BUILD_TEMPLATE_DIR): Promise<void> {
  const scratch = `${templateDir}.${process.pid}.tmp`
  await rm(scratch, { recursive: true, force: true })
  await initialise(scratch)
  await rm(markFileOf(templateDir), { force: true })
  await rm(templateDir, { recursive: true, force: true })
  await rename(scratch, templateDir)
  await writeFile(markFileOf(templateDir), `${JSON.stringify(await currentMark())}\n`)
}

/**
 * Copies the template's four hundred-odd files, many at a time and as copy-on-write clones where the
 * file system has them: `fs.cp` copies one file after another and took 1.1 s of a 2 s start.
 */
async function copyTree (from: string, to: string): Promise<void> {
  const entries = await readdir(from, { recursive: true, withFileTypes: true })
  const target = (entry: { parentPath: string, name: string }): string => join(to, relative(from, join(entry.parentPath, entry.name)))
  await mkdir(to, { recursive: true })
  for (const dir of entries.filter((entry) => entry.isDirectory()).map(target).sort()) await mkdir(dir, { recursive: true })
  const limit = pLimit(16)
  await Promise.all(entries.filter((entry) => entry.isFile())
    .map((entry) => limit(() => copyFile(join(entry.parentPath, entry.name), target(entry), constants.COPYFILE_FICLONE))))
}

async function isNewDataDir (dataDir: string): Promise<boolean> {
  try {
    return (await readdir(dataDir)).length === 0
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw error
  }
}

/**
 * Fills a new (missing or empty) `dataDir` from the template when there is a current one; returns
 * whether it did. The copy is made beside `dataDir` and renamed into place, so a start that stops
 * half-way never leaves a half-copied database that a later start would take for a whole one.
 */
export async function seedFromTemplate (dataDir: string, templateDir = BUILD_TEMPLATE_DIR): Promise<boolean> {
  if (!(await isNewDataDir(dataDir)) || !(await isTemplateCurrent(templateDir))) return false
  const scratch = `${dataDir}.${process.pid}.tmp`
  await rm(scratch, { recursive: true, force: true })
  await copyTree(templateDir, scratch)
  await rmdir(dataDir).catch((error: NodeJS.ErrnoException) => { if (error.code !== 'ENOENT') throw error })
  await rename(scratch, dataDir)
  return true
}
