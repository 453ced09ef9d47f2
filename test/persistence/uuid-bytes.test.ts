import fc from 'fast-check'
import t from 'tap'
import { packUuids, unpackUuids } from '../../src/persistence/uuid-bytes.js'

t.test('ids survive the trip through bytes, 16 bytes each, lower case', async (t) => {
  fc.assert(fc.property(fc.array(fc.uuid()), (ids) => {
    const bytes = packUuids(ids)
    t.equal(bytes.length, 16 * ids.length)
    t.same(unpackUuids(bytes), ids.map((id) => id.toLowerCase()))
  }))
  t.same(unpackUuids(packUuids(['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'])), ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'])
  t.same(packUuids(['00000000-0000-0000-0000-0000000000ff']), Buffer.from('000000000000000000000000000000ff', 'hex'))
})

t.test('bytes from Postgres and PGlite alike: a Buffer or a plain Uint8Array at an offset', async (t) => {
  const id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'
  const framed = new Uint8Array(48)
  framed.set(packUuids([id]), 16)
  t.same(unpackUuids(framed.subarray(16, 32)), [id])
  t.same(unpackUuids(new Uint8Array(0)), [])
})

t.test('anything but a canonical UUID is refused, never written wrong', async (t) => {
  for (const bad of ['', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111', 'a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11',
    'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\u0661', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a}']) {
    t.throws(() => packUuids(['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', bad]), TypeError, JSON.stringify(bad))
  }
  t.throws(() => unpackUuids(new Uint8Array(17)), TypeError)
})
