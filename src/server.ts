import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { buildApp } from './app.js'
import { loadConfig, unknownSettings, type Config } from './config.js'
import { PACKAGE_VERSION } from './package-info.js'
import { StoreUnavailableAtStartError } from './plugins/store-startup.js'
import { DEFAULT_SHUTDOWN_GRACE_MS } from './plugins/sweeper.js'

// What closing needs beyond the sweeps' grace: aborting their agent calls, recording them failed,
// answering their requests 503 and closing the stores take milliseconds with healthy stores; the
// rest is room for a slow database or Valkey before the process is killed with exit code 1.
const CLOSE_MARGIN_MS = 4_000

let config: Config
try {
  config = loadConfig()
} catch (err) {
  // No logger exists yet; one clear line beats a stack trace for a typo in the environment.
  process.stderr.write(`kernel-sweeper: invalid configuration: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
let app: Awaited<ReturnType<typeof buildApp>>
try {
  app = await buildApp(config)
} catch (err) {
  // The app's logger went with it; a store that never answered gets one line, not a stack trace.
  const logger = pino({ level: config.logLevel })
  if (err instanceof StoreUnavailableAtStartError) logger.fatal({ store: err.store }, `could not start: ${err.message}`)
  else logger.fatal({ err }, 'could not start')
  process.exit(1)
}
const unknown = unknownSettings()
if (unknown.length > 0) app.log.warn({ variables: unknown }, `not settings of this service, ignored (a typo?): ${unknown.join(', ')}`)

// On SIGINT/SIGTERM: stop accepting, let running sweeps finish within their grace (or stop them
// before they write), answer, then exit 0; a second signal or the delay running out exits 1 at once.
closeWithGrace({ delay: DEFAULT_SHUTDOWN_GRACE_MS + CLOSE_MARGIN_MS, logger: app.log }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
})

try {
  const address = await app.listen({ host: config.host, port: config.port })
  // What an on-call needs first: which build, on which stores (never their credentials).
  app.log.info({
    version: PACKAGE_VERSION, address, database: app.persistence.db.location, presence: app.sweeper.presenceLocation(), node: process.version,
  }, 'kernel-sweeper started')
} catch (err) {
  app.log.fatal({ err }, 'could not start')
  process.exit(1)
}
