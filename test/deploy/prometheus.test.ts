import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { skipUnlessAvailable } from '../helpers/services.js'

const rules = fileURLToPath(new URL('../../deploy/prometheus/alerts.yaml', import.meta.url))
const tests = fileURLToPath(new URL('../../deploy/prometheus/alerts.test.yaml', import.meta.url))

const promtool = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8' })
const version = promtool('--version')
const skip = await skipUnlessAvailable(Promise.resolve(version.status === 0 ? null : `promtool cannot be run: ${version.error?.message ?? version.stderr}`))

t.test('promtool check rules: the alert rules are valid', { skip }, async (t) => {
  const checked = promtool('check', 'rules', rules)
  t.equal(checked.status, 0, checked.stdout + checked.stderr)
})

t.test('promtool test rules: each alert fires when it should and not otherwise', { skip }, async (t) => {
  const tested = promtool('test', 'rules', tests)
  t.equal(tested.status, 0, tested.stdout + tested.stderr)
})
