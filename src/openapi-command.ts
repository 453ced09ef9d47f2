// `npm run openapi`: writes the OpenAPI document the routes describe to openapi.yaml.
import { writeFile } from 'node:fs/promises'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0' }), { logger: false })
await app.ready()
await writeFile(new URL('../../openapi.yaml', import.meta.url), app.swagger({ yaml: true }))
await app.close()
process.stdout.write('openapi.yaml written\n')
