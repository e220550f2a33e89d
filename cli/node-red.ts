// `housing-brain node-red`: Node-RED beside the rules engine, as a second alert producer. The
// example flow reads the commit-ordered feed (GET /api/v1/feed) with a service token — every
// committed reading, whatever the way in — and raises alerts through the API. The broker settings
// (HB_MQTT_*) are still given, for flows of older versions that read device topics.
// The shipped flows (node-red/) are copied into DATA_DIR/node-red on first start; edits made in
// the editor are kept there.
//
// The editor can deploy flows that run code, so it always asks for a login (issue 7, item 17):
// user "admin" with the password whose bcrypt hash is NODE_RED_ADMIN_HASH, or, when that is
// unset, a password generated on first start, printed once, and kept only as its bcrypt hash in
// DATA_DIR/node-red-admin-hash (mode 0600), as `up` does with the admin token.
import { spawn } from 'node:child_process'
import { copyFile, mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Config } from '../core/config.ts'
import { PACKAGE_ROOT } from '../core/package-root.ts'
import { ensureServiceToken, readIfExists, writePrivateFile } from '../core/provision.ts'
import { generateSecret } from '../core/secrets.ts'
import type { CommandContext } from './context.ts'
import { openDatabase, serviceMqttClientId } from './stack.ts'

const SHIPPED = path.join(PACKAGE_ROOT, 'node-red')
const RED = createRequire(import.meta.url).resolve('node-red/red.js')
/** bcrypt cost 10, Node-RED's own default (`node-red admin hash-pw`). */
const BCRYPT_ROUNDS = 10

/** The bcrypt hash the editor's login checks; a new password is printed once when one is made. */
async function editorAdminHash(cfg: Config): Promise<string> {
  if (cfg.nodeRed.adminHash) return cfg.nodeRed.adminHash
  const file = path.join(cfg.server.dataDir, 'node-red-admin-hash')
  const existing = (await readIfExists(file))?.trim()
  if (existing) return existing
  // Node-RED's own bcrypt (bcryptjs), resolved from Node-RED, so the hash is one it can check.
  const bcrypt = createRequire(RED)('bcryptjs') as { hash(password: string, rounds: number): Promise<string> }
  const password = generateSecret(18)
  const hash = await bcrypt.hash(password, BCRYPT_ROUNDS)
  await writePrivateFile(file, `${hash}\n`)
  process.stdout.write(
    `\nNode-RED editor login: user "admin", password ${password}\n` +
      `  (shown this once; only its bcrypt hash is kept, in ${file}. Delete that file to get a new password, or set NODE_RED_ADMIN_HASH.)\n\n`,
  )
  return hash
}

async function copyIfMissing(from: string, to: string): Promise<void> {
  try {
    // COPYFILE_EXCL: never overwrite flows an operator has edited.
    await copyFile(from, to, 1)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
}

export async function nodeRed(ctx: CommandContext): Promise<void> {
  const { cfg, log } = ctx
  const database = await openDatabase(cfg, log, 'housing-brain node-red')
  let token: string
  let clientId: string
  try {
    token = cfg.connect.apiToken ?? (await ensureServiceToken(database.db, cfg.server.dataDir, 'node-red'))
    // The broker accepts a service only under its own client id (svc@{userName}/…).
    clientId = await serviceMqttClientId(database.db, token, 'node-red', undefined)
  } finally {
    await database.db.close()
  }
  const userDir = path.join(cfg.server.dataDir, 'node-red')
  await mkdir(userDir, { recursive: true, mode: 0o700 })
  await copyIfMissing(path.join(SHIPPED, 'flows.json'), path.join(userDir, 'flows.json'))
  await copyIfMissing(path.join(SHIPPED, 'flows_cred.json'), path.join(userDir, 'flows_cred.json'))

  const adminHash = await editorAdminHash(cfg)
  const broker = new URL(cfg.connect.mqttUrl)
  const child = spawn(process.execPath, [RED, '--settings', path.join(SHIPPED, 'settings.cjs'), '--userDir', userDir], {
    env: {
      PATH: process.env.PATH ?? '',
      HB_NODE_RED_HOST: cfg.server.host,
      HB_NODE_RED_PORT: String(cfg.nodeRed.port),
      HB_NODE_RED_LOG_LEVEL: cfg.server.logLevel === 'silent' ? 'off' : cfg.server.logLevel,
      HB_MQTT_HOST: broker.hostname,
      HB_MQTT_PORT: broker.port || '1883',
      HB_MQTT_CLIENT_ID: clientId,
      HB_API_URL: cfg.connect.apiUrl,
      HB_API_TOKEN: token,
      HB_NODE_RED_ADMIN_HASH: adminHash,
    },
    stdio: 'inherit',
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  log.info({ port: cfg.nodeRed.port, userDir }, 'Node-RED starting')
  let stopping = false
  ctx.onShutdown(async () => {
    stopping = true
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  })
  void exited.then((code) => {
    if (stopping) return
    log.error({ code }, 'Node-RED exited')
    process.exitCode = code ?? 1
  })
}
