// `housing-brain simulate`: a fleet of simulated devices publishing to MQTT_URL with real
// credentials, either the demo's (written by `up`) or freshly provisioned ones (--provision).
// `--via http|onenet|ctwing` pushes to API_URL instead: through the HTTP device API, or as the
// OneNET / CTWing platforms push (signed with ONENET_PUSH_TOKEN, or ?token=CTWING_PUSH_TOKEN);
// gateways and their children stay on MQTT, so they are left out.
// With `--via chirpstack` the devices are LoRaWAN sensors behind a ChirpStack network server
// instead: provisioned with DevEUIs and the shipped profiles of the sensors they imitate, and
// published as ChirpStack's `up` events on the broker at --chirpstack-url.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { UsageError } from '../core/errors.ts'
import { DEVICE_KINDS, type DeviceKind } from '../core/contract.ts'
import { allowPlatformIdPushes, provisionCommunity, provisionDevices, writePrivateFile, type DeviceCredential, type DeviceSpec } from '../core/provision.ts'
import { updateDevice } from '../core/repos/devices.ts'
import { ChirpStackSimulator, Fleet, isHttpVia, isScenario, simulatedDevEui, type HttpTarget, type LoraDevice } from '../simulators/index.ts'
import type { Config } from '../core/config.ts'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import type { CommandContext } from './context.ts'
import { openDatabase } from './stack.ts'

const SENSOR_KINDS = DEVICE_KINDS.filter((k): k is Exclude<DeviceKind, 'gateway'> => k !== 'gateway')

/** The shipped profile whose sensor the ChirpStack simulator imitates, per kind (simulators/chirpstack.ts). */
const LORA_PROFILES: Partial<Record<DeviceKind, string>> = { manhole: 'milesight-em320-tilt', fire_tank: 'dragino-ldds75-tank' }

/** An application id for the simulated ChirpStack when CHIRPSTACK_APPLICATION_ID is `+`. */
const SIM_APPLICATION_ID = '7d1c0ab0-5e1f-4c6b-9d57-3a1e6f0b5e01'

/**
 * LoRaWAN devices `{prefix}-{kind}-{n}` in `communityId`, registered with a DevEUI and the profile
 * of the sensor they imitate (elevators, which have no LoRaWAN profile, without one).
 */
export async function provisionLoraDevices(db: Db, count: number, communityId: string, prefix = 'lora'): Promise<LoraDevice[]> {
  const specs: DeviceSpec[] = Array.from({ length: count }, (_, i) => {
    const kind = SENSOR_KINDS[i % SENSOR_KINDS.length] ?? 'manhole'
    return { id: `${prefix}-${kind}-${String(i + 1).padStart(5, '0')}`, kind, communityId }
  })
  await provisionDevices(db, specs)
  const devices = specs.map((s) => ({ id: s.id, kind: s.kind, devEui: simulatedDevEui(s.id) }))
  for (const d of devices) await updateDevice(db, d.id, { devEui: d.devEui, profileId: LORA_PROFILES[d.kind] ?? null })
  return devices
}

/** A ChirpStack publisher for `devices` on `url` (default CHIRPSTACK_MQTT_URL), as application CHIRPSTACK_APPLICATION_ID. */
export function chirpstackSimulator(cfg: Config, log: Logger, devices: readonly LoraDevice[], rate: number, o: { url?: string | undefined; applicationId?: string | undefined } = {}): ChirpStackSimulator {
  const url = o.url ?? cfg.chirpstack.url
  if (url === undefined) throw new UsageError('ChirpStack simulator: give --chirpstack-url mqtt://… (the broker ChirpStack publishes to) or set CHIRPSTACK_MQTT_URL')
  const applicationId = o.applicationId ?? (cfg.chirpstack.applicationId === '+' ? SIM_APPLICATION_ID : cfg.chirpstack.applicationId)
  return new ChirpStackSimulator({ url, username: cfg.chirpstack.username, password: cfg.chirpstack.password, applicationId, devices, rate, log })
}

async function simulateChirpstack(ctx: CommandContext, o: { url: string | undefined; applicationId: string | undefined; devices: number; rate: number }): Promise<ChirpStackSimulator> {
  const { db } = await openDatabase(ctx.cfg, ctx.log, 'housing-brain simulate')
  let devices: LoraDevice[]
  try {
    await provisionCommunity(db, { id: 'co-sim', name: 'Simulated Property Co.' }, { id: 'cm-sim', name: 'Simulated Community', district: 'Minhang' })
    devices = await provisionLoraDevices(db, o.devices, 'cm-sim')
  } finally {
    await db.close()
  }
  const sim = chirpstackSimulator(ctx.cfg, ctx.log, devices, o.rate, o)
  await sim.start()
  ctx.log.info({ devices: devices.length }, 'publishing ChirpStack up events')
  return sim
}

async function provision(ctx: CommandContext, count: number): Promise<{ file: string; credentials: DeviceCredential[] }> {
  const { db } = await openDatabase(ctx.cfg, ctx.log, 'housing-brain simulate')
  try {
    await provisionCommunity(db, { id: 'co-sim', name: 'Simulated Property Co.' }, { id: 'cm-sim', name: 'Simulated Community', district: 'Minhang' })
    const specs: DeviceSpec[] = Array.from({ length: count }, (_, i) => {
      const kind = SENSOR_KINDS[i % SENSOR_KINDS.length] ?? 'manhole'
      return { id: `sim-${kind}-${String(i + 1).padStart(5, '0')}`, kind, communityId: 'cm-sim' }
    })
    const credentials = await provisionDevices(db, specs)
    const file = path.join(ctx.cfg.server.dataDir, 'sim-devices.json')
    await writePrivateFile(file, `${JSON.stringify(credentials, null, 2)}\n`)
    return { file, credentials }
  } finally {
    await db.close()
  }
}

export async function simulate(ctx: CommandContext): Promise<void> {
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      devices: { type: 'string' },
      rate: { type: 'string', default: '1' },
      scenario: { type: 'string', default: 'normal' },
      credentials: { type: 'string' },
      provision: { type: 'boolean', default: false },
      duration: { type: 'string' },
      via: { type: 'string', default: 'mqtt' },
      'chirpstack-url': { type: 'string' },
      'application-id': { type: 'string' },
    },
  })
  const scenario = values.scenario
  if (!isScenario(scenario)) throw new UsageError(`--scenario: unknown scenario "${scenario}"`)
  const rate = Number(values.rate)
  if (!(rate > 0)) throw new UsageError('--rate: expected messages per second per device, above 0')
  const wanted = values.devices === undefined ? undefined : Number(values.devices)
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted > 0)) throw new UsageError('--devices: expected a whole number above 0')

  const via = values.via
  if (via !== 'mqtt' && via !== 'chirpstack' && !isHttpVia(via)) throw new UsageError(`--via: expected mqtt (our broker, the default), http, onenet, ctwing or chirpstack, got "${via}"`)
  if (via === 'onenet' && ctx.cfg.onenet.pushToken === undefined) throw new UsageError('--via onenet: set ONENET_PUSH_TOKEN to the token the API is configured with')
  if (via === 'ctwing' && ctx.cfg.ctwing.pushToken === undefined) throw new UsageError('--via ctwing: set CTWING_PUSH_TOKEN to the token the API is configured with')
  if (via === 'chirpstack') {
    const sim = await simulateChirpstack(ctx, { url: values['chirpstack-url'], applicationId: values['application-id'], devices: wanted ?? 30, rate })
    const report = setInterval(() => ctx.log.info({ published: sim.published, acked: sim.acked, skipped: sim.skipped }, 'simulating ChirpStack'), 5000)
    const stop = async () => {
      clearInterval(report)
      await sim.stop()
    }
    ctx.onShutdown(stop)
    if (values.duration !== undefined) setTimeout(() => void stop(), Number(values.duration) * 1000)
    return
  }

  const http: HttpTarget | undefined = via === 'mqtt' ? undefined : { via, baseUrl: ctx.cfg.connect.apiUrl.replace(/\/$/, ''), onenetToken: ctx.cfg.onenet.pushToken, ctwingToken: ctx.cfg.ctwing.pushToken }
  let credentials: DeviceCredential[]
  if (values.provision) {
    credentials = (await provision(ctx, wanted ?? 100)).credentials
  } else {
    const file = values.credentials ?? path.join(ctx.cfg.server.dataDir, 'demo-devices.json')
    credentials = JSON.parse(await readFile(file, 'utf8')) as DeviceCredential[]
    if (wanted !== undefined && wanted > credentials.length) {
      throw new UsageError(`--devices ${wanted}: ${file} holds ${credentials.length}; use --provision to create more`)
    }
  }
  // Children travel with their gateway: take whole gateways when cutting the list.
  const chosen = wanted === undefined ? credentials : credentials.slice(0, wanted)
  const ids = new Set(chosen.map((c) => c.id))
  const devices = chosen.filter((c) => (http ? c.kind !== 'gateway' && !c.gatewayId : !c.gatewayId || ids.has(c.gatewayId)))
  if (via === 'onenet' || via === 'ctwing') {
    // The simulated platform names devices by id (no IMEI), which each device must allow (issue 18).
    const { db } = await openDatabase(ctx.cfg, ctx.log, 'housing-brain simulate')
    try {
      await allowPlatformIdPushes(db, devices.map((d) => d.id))
    } finally {
      await db.close()
    }
    ctx.log.info({ devices: devices.length, via }, 'devices accept platform pushes naming them by id (platformIdFallback)')
  }

  const fleet = new Fleet({ devices, brokerUrl: ctx.cfg.connect.mqttUrl, rate, scenario, log: ctx.log, http })
  await fleet.start()
  const report = setInterval(() => {
    const p = fleet.progress()
    ctx.log.info({ connected: p.connected, connections: p.connections, published: p.published, acked: p.acked, errors: p.errors, rate: Math.round(p.publishRate) }, 'simulating')
  }, 5000)
  const stop = async () => {
    clearInterval(report)
    await fleet.stop()
  }
  ctx.onShutdown(stop)
  if (values.duration !== undefined) {
    const seconds = Number(values.duration)
    setTimeout(() => {
      void stop()
    }, seconds * 1000)
  }
}
