// One sweep of the group `bench` in a fresh process, as a deployed service would run it:
// prints its wall time, the answer's size and the process's peak RSS. Used by p1-sweep-size.
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { rssSampler, timed } from './support.js'

const [databaseUrl, valkeyUrl, expected] = process.argv.slice(2)
const app = await buildApp(loadConfig({ DATABASE_URL: databaseUrl, VALKEY_URL: valkeyUrl, SWEEP_INTERVAL_SEC: '0' }), { logger: false })
await app.ready()
const idleRss = Math.round(process.memoryUsage().rss / 1_048_576)
const rss = rssSampler()
const sweep = await timed(() => app.inject({ method: 'POST', url: '/v1/scaling-groups/bench/sweeps', payload: {} }))
const peakRss = rss.stop()
if (sweep.result.statusCode !== 201) throw new Error(`sweep answered ${sweep.result.statusCode}: ${sweep.result.body.slice(0, 200)}`)
const successes = sweep.result.body.match(/"reason":null/g)?.length ?? 0
if (successes !== Number(expected)) throw new Error(`${successes} kernels swept, expected ${expected}`)
await app.close()
process.stdout.write(`${JSON.stringify({ ms: sweep.ms, idleRss, peakRss, bytes: sweep.result.rawPayload.length })}\n`)
