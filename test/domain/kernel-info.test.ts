import t from 'tap'
import { InvalidKernelError, kernelSpecFrom } from '../../src/domain/kernel-info.js'
import { KERNEL_STATUSES, KernelStatus, isKernelStatus } from '../../src/domain/kernel-status.js'

const valid = {
  id: '6F1C7A52-3B7E-4D0B-9C61-2E8F4A1B9D30',
  sessionId: '0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f',
  agentId: 'i-agent.01:gpu',
  scalingGroup: 'default',
  status: 'RUNNING',
}

t.test('all sixteen kernel statuses, each its own wire name', async (t) => {
  t.equal(KERNEL_STATUSES.length, 16)
  t.same(KERNEL_STATUSES, [
    'PENDING', 'RESERVED', 'SCHEDULED', 'PREPARING', 'BUILDING', 'PULLING', 'PREPARED', 'CREATING',
    'RUNNING', 'RESTARTING', 'RESIZING', 'SUSPENDED', 'TERMINATING', 'TERMINATED', 'ERROR', 'CANCELLED',
  ])
  for (const status of KERNEL_STATUSES) t.equal(KernelStatus[status], status)
  t.ok(isKernelStatus('RUNNING'))
  t.notOk(isKernelStatus('running'), 'names are case-sensitive')
  t.notOk(isKernelStatus('toString'), 'no prototype keys')
  t.notOk(isKernelStatus(undefined))
})

t.test('a valid kernel is built, with ids in canonical lower case', async (t) => {
  t.same(kernelSpecFrom(valid), {
    id: '6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30',
    sessionId: '0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f',
    agentId: 'i-agent.01:gpu',
    scalingGroup: 'default',
    status: KernelStatus.RUNNING,
  })
  t.equal(kernelSpecFrom({ ...valid, agentId: null }).agentId, null, 'a kernel may have no agent')
})

t.test('untrusted data that is not a kernel fails with a typed error naming the field', async (t) => {
  const cases: Array<[string, unknown, string]> = [
    ['non-UUID id', { ...valid, id: 'k1' }, 'id'],
    ['UUID with trailing text', { ...valid, id: `${valid.id}x` }, 'id'],
    ['numeric id', { ...valid, id: 42 }, 'id'],
    ['missing session id', { ...valid, sessionId: undefined }, 'sessionId'],
    ['unknown status', { ...valid, status: 'ZOMBIE' }, 'status'],
    ['lower-case status', { ...valid, status: 'running' }, 'status'],
    ['path in agent id', { ...valid, agentId: '../etc' }, 'agentId'],
    ['empty agent id', { ...valid, agentId: '' }, 'agentId'],
    ['missing agent id', { ...valid, agentId: undefined }, 'agentId'],
    ['65-character scaling group', { ...valid, scalingGroup: 'g'.repeat(65) }, 'scalingGroup'],
    ['NUL in scaling group', { ...valid, scalingGroup: 'de\u0000fault' }, 'scalingGroup'],
    ['not an object', 'RUNNING', 'kernel'],
    ['null', null, 'kernel'],
  ]
  for (const [name, raw, field] of cases) {
    let caught: unknown
    try { kernelSpecFrom(raw) } catch (error) { caught = error }
    t.type(caught, InvalidKernelError, name)
    t.equal((caught as InvalidKernelError | undefined)?.field, field, `${name}: names ${field}`)
  }
  t.equal(kernelSpecFrom({ ...valid, scalingGroup: 'g'.repeat(64) }).scalingGroup.length, 64, '64 characters is the limit')
})
