import type { FastifyInstance } from 'fastify'
import { assertNoRepeatedKeys, RepeatedKeyError } from '../json/strict-json.js'

/**
 * A body whose object repeats a key, reported as Fastify reports a body that is not JSON: `400`,
 * problem type `malformed-json`, with the key and where in the detail.
 */
class AmbiguousJsonBodyError extends Error {
  override readonly name = 'AmbiguousJsonBodyError'
  readonly code = 'FST_ERR_CTP_INVALID_JSON_BODY'
  readonly statusCode = 400
}

/**
 * JSON bodies of the calling plugin's routes (and only theirs: the parser is registered in its
 * encapsulated context) are malformed when an object repeats a key, so `{"dry_run": true,
 * "dry_run": false}` never runs a sweep for real (contract, repeated keys). Everything else is
 * Fastify's own JSON parser, unchanged: empty bodies, prototype poisoning, errors. Call it from a
 * route plugin that is not wrapped in fastify-plugin, before its routes; the presence and bulk
 * routes, with their 8 MiB bodies, keep the plain parser.
 */
export function useStrictJsonBodies (fastify: FastifyInstance): void {
  // What the app's own JSON parser does with `__proto__` and `constructor` keys (Fastify's default: refuse).
  const parseJson = fastify.getDefaultJsonParser(
    fastify.initialConfig.onProtoPoisoning ?? 'error',
    fastify.initialConfig.onConstructorPoisoning ?? 'error'
  )
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser<string>('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body, (error, value) => {
      if (error !== null) {
        done(error)
        return
      }
      try {
        assertNoRepeatedKeys(body)
      } catch (repeated) {
        done(repeated instanceof RepeatedKeyError
          ? new AmbiguousJsonBodyError(`the body is ambiguous: ${repeated.message}`, { cause: repeated })
          : repeated as Error)
        return
      }
      done(null, value)
    })
  })
}
