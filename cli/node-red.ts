// `housing-brain node-red`: Node-RED beside the rules engine, as a second alert producer. Its
// flows read telemetry from the broker with a service token and raise alerts through the API.
// The shipped flows (node-red/) are copied into DATA_DIR/node-red on first start; edits made in
// the editor are kept there.
import { spawn } from 'node:child_process'
import { copyFile, mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { ensureServiceToken } from '../core/provision.ts'
import type { CommandContext } from './main.ts'
import { openDatabase, serviceMqttClientId } from './stack.ts'

const SHIPPED = path.resolve(import.meta.dirname, '../node-red')

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
    token = cfg.API_TOKEN ?? (await ensureServiceToken(database.db, cfg.dataDir, 'node-red'))
    // The broker accepts a service only under its own client id (svc@{userName}/…).
    clientId = await serviceMqttClientId(database.db, token, 'node-red', undefined)
  } finally {
    await database.db.close()
  }
  const userDir = path.join(cfg.dataDir, 'node-red')
  await mkdir(userDir, { recursive: true, mode: 0o700 })
  await copyIfMissing(path.join(SHIPPED, 'flows.json'), path.join(userDir, 'flows.json'))
  await copyIfMissing(path.join(SHIPPED, 'flows_cred.json'), path.join(userDir, 'flows_cred.json'))

  const broker = new URL(cfg.MQTT_URL)
  const red = createRequire(import.meta.url).resolve('node-red/red.js')
  const child = spawn(process.execPath, [red, '--settings', path.join(SHIPPED, 'settings.cjs'), '--userDir', userDir], {
    env: {
      PATH: process.env.PATH ?? '',
      HB_NODE_RED_HOST: cfg.HOST,
      HB_NODE_RED_PORT: String(cfg.NODE_RED_PORT),
      HB_NODE_RED_LOG_LEVEL: cfg.LOG_LEVEL === 'silent' ? 'off' : cfg.LOG_LEVEL,
      HB_MQTT_HOST: broker.hostname,
      HB_MQTT_PORT: broker.port || '1883',
      HB_MQTT_CLIENT_ID: clientId,
      HB_API_URL: cfg.API_URL,
      HB_API_TOKEN: token,
      ...(cfg.NODE_RED_ADMIN_HASH ? { HB_NODE_RED_ADMIN_HASH: cfg.NODE_RED_ADMIN_HASH } : {}),
    },
    stdio: 'inherit',
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  log.info({ port: cfg.NODE_RED_PORT, userDir }, 'Node-RED starting')
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
