import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { ErrorObject, ValidateFunction } from 'ajv'

/*
 * Fastify compiles, as the app starts, a serializer for every status code of every route and a
 * validator for every part of every route: some 150 fast-json-stringify and Ajv compilations, most
 * of them for problem answers seldom sent, and a fifth to a quarter of an embedded start (P5 in
 * BENCHMARKS.md). These compile each one the first time it is used instead: the same function,
 * from the same schema, a few milliseconds later. The routes' tests use every one of them.
 */

type SerializerFactory = ReturnType<typeof SerializerSelector>

/** Fastify's own serializer factory (fast-json-stringify with the shared schemas), compiling on first use. */
export function serializersOnFirstUse (): SerializerFactory {
  const compilers = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = compilers(externalSchemas, options)
    return (route) => {
      let serialize: ((doc: unknown) => string) | undefined
      return (doc) => (serialize ??= compile(route))(doc)
    }
  }
}

/** A validator that is compiled when it first validates; Fastify reads its `errors` after a failure, as Ajv's. */
export interface FirstUseValidator {
  (data: unknown): boolean
  errors: ErrorObject[] | null
}

export function validatorOnFirstUse (compile: () => ValidateFunction): FirstUseValidator {
  let validate: ValidateFunction | undefined
  const validator: FirstUseValidator = Object.assign((data: unknown): boolean => {
    validate ??= compile()
    const valid = validate(data)
    validator.errors = validate.errors ?? null
    return valid
  }, { errors: null })
  return validator
}
