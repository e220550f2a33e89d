// Node-RED settings for housing-brain (started by `housing-brain node-red`, which sets the HB_*
// variables below). CommonJS because Node-RED loads its settings with require().
module.exports = {
  uiHost: process.env.HB_NODE_RED_HOST || '127.0.0.1',
  uiPort: Number(process.env.HB_NODE_RED_PORT || 1880),
  flowFile: 'flows.json',
  // Credentials in flows_cred.json are references to environment variables (${HB_API_TOKEN}), not
  // secrets, so they need no encryption key; the token itself lives in DATA_DIR (mode 0600).
  credentialSecret: false,
  flowFilePretty: true,
  // The editor can change and deploy flows: it asks for user "admin" and the password whose bcrypt
  // hash is HB_NODE_RED_ADMIN_HASH (NODE_RED_ADMIN_HASH, or generated on first start by
  // cli/node-red.ts). Without a hash it refuses to start rather than run an open editor.
  adminAuth: (() => {
    const hash = process.env.HB_NODE_RED_ADMIN_HASH
    if (!hash) throw new Error('HB_NODE_RED_ADMIN_HASH is not set: start Node-RED with `housing-brain node-red`')
    return { type: 'credentials', users: [{ username: 'admin', password: hash, permissions: '*' }] }
  })(),
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  runtimeState: { enabled: false },
  editorTheme: { projects: { enabled: false }, tours: false },
  functionExternalModules: false,
  logging: { console: { level: process.env.HB_NODE_RED_LOG_LEVEL || 'info', metrics: false, audit: false } },
}
