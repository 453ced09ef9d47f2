/** Marks the session-level scheduler watches for (Backend.AI's `schedule:{type}` keys). */
export const ScheduleType = {
  DETECT_KERNEL_TERMINATION: 'detect_kernel_termination',
} as const

export type ScheduleType = typeof ScheduleType[keyof typeof ScheduleType]
