import fp from 'fastify-plugin'

/**
 * Answers given while the app closes say `Connection: close`, so a keep-alive client whose
 * request was in flight (a sweep finishing within the grace) does not hold the server open.
 */
export default fp(async (fastify) => {
  let closing = false
  fastify.addHook('preClose', (done) => {
    closing = true
    done()
  })
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
}, { name: 'graceful-close' })
