/** Advisory lock ids, numbered as in Backend.AI's manager so both can share one database. */
export const LockID = {
  LOCKID_SOKOVAN_TARGET_TERMINATING: 233,
} as const

export type LockID = typeof LockID[keyof typeof LockID]
