// `npm run agent-sim -- --port 9101 --agent-id a1 --service http://127.0.0.1:8080`
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { AgentSimulator } from './agent-simulator.js'

const { values } = parseArgs({
  options: {
    'agent-id': { type: 'string', default: 'a1' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '9101' },
    service: { type: 'string', default: 'http://127.0.0.1:8080' },
    'scaling-group': { type: 'string' },
    kernels: { type: 'string', default: '' },
    'interval-sec': { type: 'string', default: '10' },
  },
})

const log = pino({ name: 'agent-sim' })
const agentId = values['agent-id']
const service = values.service.replace(/\/$/, '')
const token = process.env['AGENT_TOKEN'] ?? process.env['API_TOKEN']
const headers: Record<string, string> = { 'content-type': 'application/json' }
if (token !== undefined) headers['authorization'] = `Bearer ${token}`

async function send (method: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${service}${path}`, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) })
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`)
}

const simulator = await AgentSimulator.start({
  agentId,
  host: values.host,
  port: Number(values.port),
  presenceIntervalMs: Number(values['interval-sec']) * 1000,
  reportPresence: (id, kernels) => send('POST', `/v1/agents/${encodeURIComponent(id)}/presence`, { kernels: Object.fromEntries(kernels) }),
  onReportError: (err) => { log.warn({ err }, 'presence not delivered') },
})
for (const kernelId of values.kernels.split(',').filter((id) => id !== '')) simulator.setKernel(kernelId, 'running')
log.info({ agent_id: agentId, url: simulator.url, service }, 'agent simulator listening')

if (values['scaling-group'] !== undefined) {
  await send('PUT', `/v1/agents/${encodeURIComponent(agentId)}`, { address: simulator.url, scaling_group: values['scaling-group'] })
    .then(() => { log.info('registered with the service') }, (err: unknown) => { log.warn({ err }, 'registration failed') })
}
await simulator.sendPresence().catch((err: unknown) => { log.warn({ err }, 'presence not delivered') })

closeWithGrace({ delay: 2_000 }, async () => { await simulator.close() })
