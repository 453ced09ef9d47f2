import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'

// The demo (built by npm test) is documentation that runs: it must keep telling the truth.
t.test('npm run demo: a dry run changes nothing, the sweep terminates the three dead kernels only', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['dist/src/demo.js'], { timeout: 60_000 })
  const [dryRun = '', sweep = ''] = stdout.split('\nSweep: ')
  t.match(dryRun, /outcome dry_run/)
  t.notMatch(dryRun, /'yes'/, 'nothing terminated by the dry run')
  t.match(sweep, /outcome completed/)
  t.equal(sweep.match(/'dead'\s+│ 'yes'/g)?.length, 3, 'the three dead kernels terminated')
  t.equal(sweep.match(/'yes'/g)?.length, 3, 'and nothing else')
  t.match(sweep, /'hang'\s+│ 'skipped \(agent_timeout\)'/)
  t.match(stdout, /History of terminated kernel [0-9a-f-]{36}:[\s\S]*'RUNNING'\s+│ 'TERMINATED' │ 'STALE_KERNEL'/)
})
