import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadConfig, type Config } from './config.js'

let config: Config
try {
  config = loadConfig()
} catch (err) {
  // No logger exists yet; one clear line beats a stack trace for a typo in the environment.
  process.stderr.write(`kernel-sweeper: invalid configuration: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
const app = await buildApp(config)

// On SIGINT/SIGTERM: stop accepting, finish what runs, then exit; a second signal or the delay
// running out exits at once.
closeWithGrace({ delay: 10_000, logger: app.log }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down')
  await app.close()
})

try {
  await app.listen({ host: config.host, port: config.port })
} catch (err) {
  app.log.fatal({ err }, 'could not start')
  process.exit(1)
}
