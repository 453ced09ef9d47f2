import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', '.data/**', 'coverage/**', '.tap/**'],
  }),
  {
    rules: {
      // A const object and a type of the same name is how the domain spells enums; the compiler
      // already rejects real redeclarations.
      '@typescript-eslint/no-redeclare': 'off',
    },
  },
]
