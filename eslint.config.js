// One linter for the whole tree; `npm run lint` fails on any warning.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// Layers point down (docs/design.md#architecture): what each top-level folder may import of the
// others. `cli/`, `bench/` and `test/` compose and may import anything. `shared/` holds what the
// browser bundles too: it imports no package and no other folder (types excepted), and the console
// may import values only from it (types from anywhere: they are erased).
const LAYERS = {
  shared: [],
  core: ['shared'],
  intake: ['shared', 'core'],
  rules: ['shared', 'core'],
  simulators: ['shared', 'core'],
  broker: ['shared', 'core', 'intake'],
  ingest: ['shared', 'core', 'intake'],
  alerts: ['shared', 'core'],
  notify: ['shared', 'core', 'alerts'],
  api: ['shared', 'core', 'intake', 'alerts', 'notify', 'rules'],
}
const TOP = [...Object.keys(LAYERS), 'cli', 'bench', 'test', 'console']

/**
 * One block per folder and depth, so `../` counts exactly: from `notify/channels/x.ts`, `../../api/`
 * is the top-level api folder, and `../alerts/` inside `api/routes/` is api's own.
 */
function boundaries() {
  const blocks = []
  for (const [folder, allowed] of Object.entries(LAYERS)) {
    const forbidden = TOP.filter((t) => t !== folder && !allowed.includes(t))
    for (let depth = 1; depth <= 5; depth++) {
      const up = '\\.\\./'.repeat(depth)
      const patterns = [{ regex: `^${up}(${forbidden.join('|')})/`, message: `${folder}/ may import only ${allowed.length ? allowed.join(', ') : 'nothing above it'} of the other top-level folders (eslint.config.js, LAYERS)` }]
      const files = [`${folder}/${'*/'.repeat(depth - 1)}*.ts`]
      if (folder === 'api' && depth === 2) {
        // A route translates HTTP: what two routes share lives in a module beside them, not in a route.
        const route = { regex: '^\\./', message: 'a route may not import another route; move what they share out of api/routes/' }
        blocks.push({ files: ['api/routes/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, route] }] } })
        blocks.push({ files, ignores: ['api/routes/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns }] } })
        continue
      }
      blocks.push({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } })
    }
  }
  const typesOnly = (regex, message) => ({ regex, message, allowTypeImports: true })
  for (let depth = 1; depth <= 4; depth++) {
    // shared/: relative imports of its own folder only; no package, no Node built-in.
    blocks.push({
      files: [`shared/${'*/'.repeat(depth - 1)}*.ts`],
      rules: {
        'no-restricted-imports': 'off',
        '@typescript-eslint/no-restricted-imports': ['error', { patterns: [
          typesOnly(`^${'\\.\\./'.repeat(depth)}`, 'shared/ is bundled into the browser: it imports only shared/ modules (types excepted)'),
          typesOnly('^[^.]', 'shared/ is bundled into the browser: it imports no package (types excepted)'),
        ] }],
      },
    })
    // console/src/…: values only from shared/ once an import leaves console/.
    blocks.push({
      files: [`console/src/${'*/'.repeat(depth - 1)}*.{ts,tsx}`],
      rules: {
        '@typescript-eslint/no-restricted-imports': ['error', { patterns: [
          typesOnly(`^${'\\.\\./'.repeat(depth + 1)}(?!shared/)`, 'the console imports values only from shared/ (types from anywhere)'),
        ] }],
      },
    })
  }
  return blocks
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/', 'node-red/data/', 'console/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Callback-style library hooks (Aedes, MQTT.js) take promise-returning work by design.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Fastify plugins are async functions by convention, whether or not they await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  ...boundaries(),
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Node-RED loads its settings with require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    // The console's service worker is served as it is (not bundled).
    files: ['console/public/sw.js'],
    languageOptions: { globals: globals.serviceworker },
  },
)
