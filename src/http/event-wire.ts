import type { LoggedEvent } from '../domain/events.js'
import type { CloudEventWire } from './schemas.js'

/** The CloudEvents 1.0 `source` of every event this service writes. */
export const EVENT_SOURCE = 'kernel-sweeper'

/** A logged event as the CloudEvent of contract §3 (structured JSON). */
export function eventToWire (event: LoggedEvent): CloudEventWire {
  return {
    specversion: '1.0',
    id: event.id,
    source: EVENT_SOURCE,
    type: event.type,
    time: event.time.toISOString(),
    subject: event.subject,
    datacontenttype: 'application/json',
    // The repository stores the data already in its wire shape (snake_case, per type).
    data: event.data as CloudEventWire['data'],
  }
}

/**
 * One Server-Sent Events frame. JSON.stringify escapes every line break inside strings, so the
 * event's JSON is always a single `data:` line.
 */
export function eventFrame (event: LoggedEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(eventToWire(event))}\n\n`
}
