// The gateway's own health: its uplink signal and how many of its children it hears.
import { METRICS } from '../../core/contract.ts'
import type { Rng } from '../rng.ts'
import { DeviceModel, clamp, type ResolvedModelOptions, type Values } from './base.ts'

const M = METRICS.gateway

export class GatewayModel extends DeviceModel<'gateway'> {
  readonly kind = 'gateway' as const
  /** Set by whoever owns the children (the gateway runner) before each step. */
  childrenOnline = 0
  private readonly baseRssi: number

  constructor(rng: Rng, opts: ResolvedModelOptions) {
    super(rng, opts)
    this.baseRssi = rng.uniform(-95, -60)
  }

  protected advance(): Values<'gateway'> {
    return {
      rssi_dbm: Math.round(clamp(this.baseRssi + this.rng.normal(0, 2), M.rssi_dbm.min, M.rssi_dbm.max)),
      children_online: clamp(this.childrenOnline, M.children_online.min, M.children_online.max),
    }
  }
}
