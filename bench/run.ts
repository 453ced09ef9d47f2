// `npm run bench`: every benchmark, each in a process of its own, then one table of the results.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const benches: Array<[string, string[]]> = [
  ['p1-sweep-size.js', ['10000', '3']],
  ['p1-sweep-size.js', ['100000', '5']],
  ['p2-fan-out.js', ['5']],
  ['p6-presence-storm.js', ['100000', '500', '3']],
  ['p7-event-delivery.js', ['10000', '50']],
  ['p8-hostile-bodies.js', ['10', '4']],
  ['p3-termination.js', ['10000', '3']],
  ['p4-presence-ingestion.js', ['10']],
  ['p5-embedded-start.js', ['3']],
]

for (const [file, args] of benches) {
  const { stdout } = await promisify(execFile)(process.execPath, [new URL(file, import.meta.url).pathname, ...args], { maxBuffer: 16 * 1024 * 1024 })
  for (const line of stdout.split('\n').filter((l) => l.startsWith('{"bench"'))) {
    const { bench, ...fields } = JSON.parse(line) as Record<string, string>
    process.stdout.write(`\n${bench}\n`)
    for (const [name, value] of Object.entries(fields)) process.stdout.write(`  ${name.padEnd(50)} ${value}\n`)
  }
}
