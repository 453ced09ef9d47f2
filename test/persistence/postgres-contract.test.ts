import t from 'tap'
import { persistenceContract } from '../helpers/persistence-contract.js'
import { skipWithoutPostgres, testSchema } from '../helpers/postgres.js'

t.test('persistence contract on real PostgreSQL', { skip: await skipWithoutPostgres() }, async (t) => {
  await persistenceContract(t, async () => (await testSchema(t)).open())
})
