// `npm run agent-sim -- --port 9101 --agent-id a1 --service http://127.0.0.1:8080`
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { AgentSimulator } from './agent-simulator.js'
import { serviceClient } from './service-client.js'

const { values } = parseArgs({
  options: {
    'agent-id': { type: 'string', default: 'a1' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '9101' },
    service: { type: 'string', default: 'http://127.0.0.1:8080' },
    'scaling-group': { type: 'string' },
    kernels: { type: 'string', default: '' },
    'interval-sec': { type: 'string', default: '10' },
    'reconcile-interval-sec': { type: 'string', default: '60' },
    'no-reconcile': { type: 'boolean', default: false },
    // A v1 agent, without the batched route: the service falls back to per-kernel calls.
    'no-batch': { type: 'boolean', default: false },
  },
})

const log = pino({ name: 'agent-sim' })
const agentId = values['agent-id']
const service = values.service.replace(/\/$/, '')
const token = process.env['AGENT_TOKEN'] ?? process.env['API_TOKEN']
const client = serviceClient({ url: service, ...(token === undefined ? {} : { token }) })
const scalingGroup = values['scaling-group']
const batch = !values['no-batch']

const simulator = await AgentSimulator.start({
  agentId,
  host: values.host,
  port: Number(values.port),
  batch,
  presenceIntervalMs: Number(values['interval-sec']) * 1000,
  reportPresence: client.reportPresence,
  onReportError: (err) => { log.warn({ err }, 'presence not delivered') },
  // Registered until the service answers: an agent started before the service (or while it
  // restarts) registers as soon as it can, with a backoff of 0.2 s doubling up to 10 s.
  ...(scalingGroup === undefined
    ? {}
    : {
        register: client.registrar(scalingGroup),
        onRegisterError: (err: unknown, attempt: number, retryInMs: number | null) => {
          if (retryInMs === null) log.error({ err, attempt }, 'registration refused; not trying again')
          else log.warn({ err, attempt, retry_in_ms: retryInMs }, 'registration failed; trying again')
        },
      }),
  reconcileWith: client.reconcile,
  reconcile: !values['no-reconcile'],
  reconcileIntervalMs: Number(values['reconcile-interval-sec']) * 1000,
  onReconciled: (result, stopped) => {
    if (stopped.length > 0) log.warn({ stopped }, 'stopped kernels the service does not expect here (orphans)')
    if (result.missing.length > 0) log.warn({ missing: result.missing }, 'the service expects kernels here that do not run')
  },
  onReconcileError: (err) => { log.warn({ err }, 'reconciliation failed') },
})
for (const kernelId of values.kernels.split(',').filter((id) => id !== '')) simulator.setKernel(kernelId, 'running')
log.info({ agent_id: agentId, url: simulator.url, service, reconcile: !values['no-reconcile'], batch }, 'agent simulator listening')

simulator.registered.then((registered) => { if (registered && scalingGroup !== undefined) log.info('registered with the service') }, () => {})
await simulator.sendPresence().catch((err: unknown) => { log.warn({ err }, 'presence not delivered') })

closeWithGrace({ delay: 2_000 }, async () => { await simulator.close() })
