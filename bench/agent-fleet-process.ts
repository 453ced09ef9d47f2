// The child side of bench/agent-fleet.ts: simulated agents on real sockets, in a process of their
// own so that answering them does not share the measured service's event loop or core.
import { AgentSimulator } from '../src/agents/simulator/agent-simulator.js'
import type { FleetMessage, FleetReply, FleetSpec } from './agent-fleet.js'

let simulators: AgentSimulator[] = []

async function start (spec: FleetSpec): Promise<FleetReply> {
  simulators = await Promise.all(spec.agents.map(async ({ agentId, running, dead }) => {
    const simulator = await AgentSimulator.start({ agentId, answerDelayMs: spec.answerDelayMs, batch: spec.batch })
    for (const kernelId of running) simulator.setKernel(kernelId, 'running')
    for (const kernelId of dead) simulator.setKernel(kernelId, 'dead')
    return simulator
  }))
  return { kind: 'started', urls: Object.fromEntries(simulators.map((simulator) => [simulator.agentId, simulator.url])) }
}

function stats (): FleetReply {
  const sum = (count: (simulator: AgentSimulator) => number): number => simulators.reduce((total, simulator) => total + count(simulator), 0)
  return {
    kind: 'stats',
    calls: sum((simulator) => simulator.checksServed),
    batchCalls: sum((simulator) => simulator.batchCallsServed),
    kernelsAsked: sum((simulator) => simulator.kernelsAsked),
  }
}

process.on('message', (message: FleetMessage) => {
  const reply = message.kind === 'start' ? start(message.spec) : Promise.resolve(stats())
  reply.then((answer) => { process.send?.(answer) }, (error: unknown) => {
    process.stderr.write(`agent fleet: ${String(error)}\n`)
    process.exit(1)
  })
})
// The fleet lives as long as the benchmark that started it.
process.on('disconnect', () => {
  Promise.all(simulators.map((simulator) => simulator.close())).finally(() => process.exit(0))
})
