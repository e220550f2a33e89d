// The benchmark fleet, provisioned in the scratch database: single devices of three kinds, and
// gateways each with registered LoRa children. Ids carry a `bench-` prefix.
import type { Db } from '../core/db/client.ts'
import { provisionCommunity, provisionDevices, type DeviceSpec } from '../core/provision.ts'
import { CHILD_SHAPE, DEVICE_SHAPES } from './payloads.ts'
import type { LoadClient } from './protocol.ts'

export interface FleetSize {
  devices: number
  gateways: number
  /** Children per gateway. */
  children: number
}

export interface Fleet {
  devices: LoadClient[]
  gateways: LoadClient[]
}

const COMMUNITY = 'cm-bench'
const pad = (n: number, width: number) => String(n).padStart(width, '0')

export async function provisionFleet(db: Db, size: FleetSize): Promise<Fleet> {
  await provisionCommunity(db, { id: 'co-bench', name: 'Benchmark Property Co.' }, { id: COMMUNITY, name: 'Benchmark Community' })
  const specs: DeviceSpec[] = []
  for (let i = 0; i < size.devices; i++) {
    const kind = DEVICE_SHAPES[i % DEVICE_SHAPES.length]?.kind ?? 'manhole'
    specs.push({ id: `bench-d-${pad(i, 5)}`, kind, communityId: COMMUNITY })
  }
  const childrenOf = new Map<string, string[]>()
  for (let g = 0; g < size.gateways; g++) {
    const gatewayId = `bench-g-${pad(g, 3)}`
    specs.push({ id: gatewayId, kind: 'gateway', communityId: COMMUNITY })
    const children: string[] = []
    for (let c = 0; c < size.children; c++) {
      const id = `${gatewayId}-c${pad(c, 3)}`
      children.push(id)
      specs.push({ id, kind: CHILD_SHAPE.kind, communityId: COMMUNITY, gatewayId })
    }
    childrenOf.set(gatewayId, children)
  }
  const creds = await provisionDevices(db, specs)
  const fleet: Fleet = { devices: [], gateways: [] }
  for (const c of creds) {
    if (c.kind === 'gateway') fleet.gateways.push({ id: c.id, secret: c.secret, kind: c.kind, children: childrenOf.get(c.id) ?? [] })
    else if (c.gatewayId === null) fleet.devices.push({ id: c.id, secret: c.secret, kind: c.kind })
  }
  return fleet
}

/** Deals clients out to `n` generators in turn, so each gets a similar mix. */
export function split<T>(items: readonly T[], n: number): T[][] {
  const parts = Array.from({ length: n }, (): T[] => [])
  items.forEach((item, i) => parts[i % n]?.push(item))
  return parts.filter((p) => p.length > 0)
}
