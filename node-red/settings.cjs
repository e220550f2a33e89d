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
  // The editor can change and deploy flows: with HB_NODE_RED_ADMIN_HASH (a bcrypt hash, e.g. from
  // `npx node-red admin hash-pw`) it asks for user "admin" and that password.
  adminAuth: process.env.HB_NODE_RED_ADMIN_HASH
    ? { type: 'credentials', users: [{ username: 'admin', password: process.env.HB_NODE_RED_ADMIN_HASH, permissions: '*' }] }
    : undefined,
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  runtimeState: { enabled: false },
  editorTheme: { projects: { enabled: false }, tours: false },
  functionExternalModules: false,
  logging: { console: { level: process.env.HB_NODE_RED_LOG_LEVEL || 'info', metrics: false, audit: false } },
}
