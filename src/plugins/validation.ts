import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import fp from 'fastify-plugin'
import { UUID_PATTERN } from '../domain/kernel-info.js'
import { validatorOnFirstUse } from '../http/compile-on-first-use.js'
import { SHARED_SCHEMAS } from '../http/schemas.js'

function compiler (options: Options): Ajv {
  const ajv = new Ajv({
    removeAdditional: false, // an unknown field is an error, never silently dropped
    useDefaults: true,
    allErrors: false,
    keywords: ['example'],
    ...options,
  })
  addFormats.default(ajv)
  // ajv-formats' `uuid` also passes `urn:uuid:…`, which Postgres refuses (a 500 instead of a 400);
  // added after it, this one replaces it.
  ajv.addFormat('uuid', UUID_PATTERN)
  for (const schema of SHARED_SCHEMAS) ajv.addSchema(schema)
  return ajv
}

/**
 * Bodies are validated strictly (no coercion: `"true"` is not a boolean, and a mistyped
 * `"dryrun"` is refused rather than ignored); query strings and path parameters, which are
 * text by nature, are coerced. The named wire schemas are known to both validators and to
 * Fastify's schema store, which serializes answers with them and hands them to the API document.
 */
export default fp(async (fastify) => {
  for (const schema of SHARED_SCHEMAS) fastify.addSchema(schema)
  const strict = compiler({ coerceTypes: false })
  const coercing = compiler({ coerceTypes: 'array' })
  fastify.setValidatorCompiler(({ schema, httpPart }) =>
    validatorOnFirstUse(() => (httpPart === 'body' ? strict : coercing).compile(schema)))
}, { name: 'validation' })
