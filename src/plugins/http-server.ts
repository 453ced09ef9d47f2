import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyServerOptions } from 'fastify'
import type { Config } from '../config.js'
import { PROBLEM_MEDIA_TYPE, ProblemType } from '../http/problem.js'

type HttpTimeouts = Pick<Config, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpIdleTimeoutMs'>

/** What Node keeps on a socket for the answer in progress; the same test Node's own 408 makes. */
function answerStarted (socket: Socket): boolean {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage?.headersSent === true
}

/**
 * A connection's error before or beside a request (headers or body too slow, headers too large,
 * not HTTP), answered as every other error, in problem details, on the socket itself (no request
 * exists to answer through), and the connection closed.
 */
function clientErrorHandler (timeouts: HttpTimeouts): NonNullable<FastifyServerOptions['clientErrorHandler']> {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return
    const [status, detail] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, `the request did not arrive in time: headers within ${timeouts.httpHeadersTimeoutMs} ms, all of it within ${timeouts.httpRequestTimeoutMs} ms`]
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'the request headers are larger than the service reads']
          : [400, 'the request is not valid HTTP']
    // A request answered already (a 413 sent before its body) gets no second, unasked-for answer.
    if (!socket.writable || answerStarted(socket)) {
      socket.destroy()
      return
    }
    const title = STATUS_CODES[status] ?? 'Bad Request'
    const body = JSON.stringify({ type: ProblemType.BAD_REQUEST, title, status, detail })
    socket.end(`HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Type: ${PROBLEM_MEDIA_TYPE}\r\n` +
      `X-Content-Type-Options: nosniff\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => { socket.destroy() })
  }
}

/**
 * The server's timeouts (contract §6), so that no client holds a connection without sending: its
 * headers within `httpHeadersTimeoutMs` and its whole request within `httpRequestTimeoutMs`, both
 * from the request's first byte, else `408` and the connection closed; an idle keep-alive
 * connection closed after `httpIdleTimeoutMs` (announced in `Keep-Alive: timeout=`; Node waits
 * 1 s more, so that a client going by it never sends as it closes). None applies once the
 * request has arrived, so a long answer (a sweep, a 30 s long-poll, the event stream) is never
 * cut; nor is there a socket inactivity timeout, for the same reason.
 */
export function httpServerOptions (timeouts: HttpTimeouts): Pick<FastifyServerOptions, 'requestTimeout' | 'keepAliveTimeout' | 'clientErrorHandler'> & {
  http: { headersTimeout: number, connectionsCheckingInterval: number }
} {
  return {
    requestTimeout: timeouts.httpRequestTimeoutMs,
    keepAliveTimeout: timeouts.httpIdleTimeoutMs,
    http: {
      headersTimeout: timeouts.httpHeadersTimeoutMs,
      // Node looks for expired requests every 30 s by default, which would let a dripping client
      // hold its connection for up to 30 s past its timeout; a tenth of the shorter one, at most 1 s.
      connectionsCheckingInterval: Math.max(1, Math.min(1000, Math.ceil(Math.min(timeouts.httpHeadersTimeoutMs, timeouts.httpRequestTimeoutMs) / 10))),
    },
    clientErrorHandler: clientErrorHandler(timeouts),
  }
}
