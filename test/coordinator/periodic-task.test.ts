import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { PeriodicTask } from '../../src/coordinator/periodic-task.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'

t.test('a periodic task runs after its delay, again after each run, survives failures, and stops', async (t) => {
  const logger = new CapturingLogger()
  const starts: number[] = []
  let inFlight = 0
  let overlapped = false
  let sawAbort = false
  const task = new PeriodicTask(async (signal) => {
    starts.push(Date.now())
    overlapped ||= inFlight > 0
    inFlight++
    try {
      await sleep(15)
      if (starts.length === 2) throw new Error('one bad run')
      sawAbort ||= signal.aborted
    } finally {
      inFlight--
    }
  }, { name: 'test', intervalMs: 10, initialDelayMs: 30, logger })

  const started = Date.now()
  task.start()
  await sleep(20)
  t.equal(starts.length, 0, 'nothing before the initial delay')
  await sleep(120)
  t.ok(starts.length >= 3, `ran ${starts.length} times`)
  t.ok(starts[0]! - started >= 25, 'first run after the delay')
  t.notOk(overlapped, 'runs never overlap')
  t.match(logger.at('warn')[0], { message: 'periodic task failed', fields: { task: 'test' } }, 'a failed run is logged')
  t.ok(starts.length >= 3, 'and the next runs still come')

  const busy = (): boolean => inFlight > 0
  while (!busy()) await sleep(1)
  await task.stop()
  t.equal(inFlight, 0, 'stop waits for the run under way')
  t.ok(sawAbort, 'which saw its signal aborted')
  const count = starts.length
  await sleep(50)
  t.equal(starts.length, count, 'no run after stop')
})
