import t from 'tap'
import { persistenceContract } from '../helpers/persistence-contract.js'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'

t.test('persistence contract on real PostgreSQL', { skip: await skipWithoutPostgres() }, async (t) => {
  await persistenceContract(t, async () => (await testDatabase(t)).open())
})
