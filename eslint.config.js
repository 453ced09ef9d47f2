import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    // clients/typescript/schema.ts is openapi-typescript's output, kept byte for byte as it makes it
    // (a test compares the two), so its style is the generator's.
    ignores: ['dist/**', '.data/**', 'coverage/**', '.tap/**', 'clients/typescript/schema.ts'],
  }),
  {
    rules: {
      // A const object and a type of the same name is how the domain spells enums; the compiler
      // already rejects real redeclarations.
      '@typescript-eslint/no-redeclare': 'off',
    },
  },
]
