import { Transform } from 'node:stream'
import fp from 'fastify-plugin'
import { HttpProblem, ProblemType } from '../http/problem.js'
import { JsonLimitError, JsonLimitsCheck, type JsonLimits } from '../json/json-limits.js'

/**
 * The most any route's body needs, with room to spare. The largest, `PUT /v1/kernels` with 10,000
 * kernels, nests 3 deep and holds about 80,000 values in 7 layouts; heartbeats for 10,000 kernels
 * are 10,001 layouts, and no key a route takes is longer than a kernel id (36). 12,000 layouts
 * keep a list a little longer than the contract's 10,000 a `400` that names the field, from
 * validation. Within these, joining, decoding and parsing the worst 8 MiB body keeps the event loop
 * under the 250 ms a request may hold it (bench/p8-hostile-bodies.ts).
 */
export const JSON_BODY_LIMITS: JsonLimits = { depth: 32, values: 100_000, layouts: 12_000, keyLength: 128 }

/** Methods whose body Fastify never reads. */
const BODYLESS = new Set(['GET', 'HEAD', 'TRACE'])

/**
 * Every body Fastify parses as JSON (the only type the app reads: any other is `415`, unread) is
 * checked against `JSON_BODY_LIMITS` as it streams in, a chunk at a time, on every route and on
 * unknown ones: a body over them is never joined, decoded nor parsed, and is answered `413`.
 */
export default fp(async (fastify) => {
  fastify.addHook('preParsing', async (request, _reply, payload) => {
    if (request.mediaType !== 'application/json' || BODYLESS.has(request.method)) return payload
    const check = new JsonLimitsCheck(JSON_BODY_LIMITS)
    let refusal: JsonLimitError | undefined
    const checked = new Transform({
      transform (chunk: Buffer, _encoding, callback) {
        if (refusal === undefined) {
          try {
            check.write(chunk)
            callback(null, chunk)
            return
          } catch (error) {
            refusal = error as JsonLimitError
          }
        }
        // Past a limit the rest is read and dropped, and the 413 sent when it has all come (or
        // the request timeout cuts it): a server that answers and closes while the client still
        // sends resets the connection, and the client may never read the answer.
        callback()
      },
      flush (callback) {
        callback(refusal && new HttpProblem(413, ProblemType.BODY_TOO_LARGE, 'Request body too large', `the body ${refusal.message}`))
      },
    })
    // A client that leaves mid-body ends the parse.
    payload.once('error', (error) => checked.destroy(error))
    // Fastify listens once it reads the body; a refusal it never reads (a Content-Length over the
    // byte limit is 413 at once) has no one else to tell.
    checked.on('error', () => {})
    return payload.pipe(checked)
  })
}, { name: 'json-body-limits' })
