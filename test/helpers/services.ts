/**
 * For `t.test(name, { skip }, …)`: false when the service answered (`why` is null), else the
 * reason to skip. Under CI a missing service is a failure, not a skip.
 */
export async function skipUnlessAvailable (why: Promise<string | null>): Promise<string | false> {
  const reason = await why
  if (reason === null) return false
  if (process.env['CI'] === 'true') throw new Error(reason)
  return reason
}
