import { Ajv } from 'ajv'
import Fastify from 'fastify'
import t from 'tap'
import { serializersOnFirstUse, validatorOnFirstUse } from '../../src/http/compile-on-first-use.js'

const Point = { $id: 'Point', type: 'object', properties: { x: { type: 'integer' }, y: { type: 'integer' } }, required: ['x', 'y'] }

t.test('a validator is compiled when it first validates, once, and reports its errors as Ajv does', async (t) => {
  const ajv = new Ajv()
  let compiled = 0
  const validator = validatorOnFirstUse(() => { compiled++; return ajv.compile(Point) })
  t.equal(compiled, 0, 'not compiled when made')
  t.equal(validator({ x: 1 }), false)
  t.match(validator.errors, [{ keyword: 'required', params: { missingProperty: 'y' } }])
  t.equal(validator({ x: 1, y: 2 }), true)
  t.equal(validator.errors, null, 'a valid value clears the errors of the one before')
  t.equal(compiled, 1, 'compiled once')
})

t.test('a serializer is compiled when it first serializes, with the shared schemas, and writes what fast-json-stringify writes', async (t) => {
  const compile = serializersOnFirstUse()({ Point }, {})
  const route = { method: 'GET', url: '/p', httpStatus: '200' }
  const point = compile({ ...route, schema: { $ref: 'Point' } })
  t.equal(point({ x: 1, y: 2, z: 3 }), '{"x":1,"y":2}', 'the shared schema is found, extra fields are left out')
  // A schema fast-json-stringify cannot compile shows when the serializer is compiled: at first use.
  const broken = compile({ ...route, schema: { $ref: 'Missing' } })
  t.throws(() => broken({}), /Missing/)
})

t.test('in an app: answers and refusals are as with eager compilation', async (t) => {
  const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: serializersOnFirstUse() } } })
  t.teardown(() => app.close())
  app.addSchema(Point)
  const ajv = new Ajv()
  ajv.addSchema(Point)
  app.setValidatorCompiler(({ schema }) => validatorOnFirstUse(() => ajv.compile(schema)))
  app.post('/points', { schema: { body: { $ref: 'Point' }, response: { 200: { $ref: 'Point' } } } }, async (request) => ({ ...(request.body as object), secret: 's' }))
  const ok = await app.inject({ method: 'POST', url: '/points', payload: { x: 1, y: 2 } })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, '{"x":1,"y":2}')
  const refused = await app.inject({ method: 'POST', url: '/points', payload: { x: 1 } })
  t.equal(refused.statusCode, 400)
  t.match(refused.json(), { message: /must have required property 'y'/ })
})
