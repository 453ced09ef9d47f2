import { readFileSync } from 'node:fs'
import t from 'tap'
import { knownSettings, unknownSettings } from '../src/config.js'

/*
 * `.env.example` names every variable the service reads, and nothing else, each commented out as
 * `# NAME=default` with the default the configuration really has (empty for a setting unset by
 * default).
 */

const VARIABLE = /^# ([A-Z][A-Z0-9_]*)=(.*)$/

/** The variables `.env.example` sets, in order, with the value written for each. */
function exampleEntries (): Array<[string, string]> {
  return readFileSync(new URL('../.env.example', import.meta.url), 'utf8').split('\n').flatMap((line): Array<[string, string]> => {
    const match = VARIABLE.exec(line)
    return match === null ? [] : [[match[1]!, match[2]!]]
  })
}

t.test('.env.example names exactly the variables the service reads, each once', async (t) => {
  const names = exampleEntries().map(([name]) => name)
  t.same([...names].sort(), knownSettings().map((setting) => setting.name).sort())
  t.same(names.filter((name, i) => names.indexOf(name) !== i), [], 'no variable twice')
  t.same(unknownSettings(Object.fromEntries(names.map((name) => [name, 'x']))), [], 'the service warns about none of them')
})

t.test('each default written in .env.example is the configuration\'s default', async (t) => {
  const written = new Map(exampleEntries())
  for (const setting of knownSettings()) {
    const expected = setting.default === undefined ? '' : String(setting.default)
    t.equal(written.get(setting.name), expected, `${setting.name}=${expected}`)
  }
})
