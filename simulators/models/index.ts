// One factory for every kind, so callers pick a model by the kind a device is registered with.
import type { DeviceKind } from '../../core/contract.ts'
import { Rng, hashSeed } from '../rng.ts'
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from './base.ts'
import { ElevatorModel } from './elevator.ts'
import { FireTankModel } from './fire-tank.ts'
import { GatewayModel } from './gateway.ts'
import { ManholeModel } from './manhole.ts'

export { DeviceModel, DEFAULT_MODEL_OPTIONS, type ModelOptions, type Values } from './base.ts'
export { ElevatorModel, elevatorTraffic } from './elevator.ts'
export { FireTankModel } from './fire-tank.ts'
export { GatewayModel } from './gateway.ts'
export { ManholeModel } from './manhole.ts'

export interface ModelByKind {
  manhole: ManholeModel
  fire_tank: FireTankModel
  elevator: ElevatorModel
  gateway: GatewayModel
}
export type AnyModel = ModelByKind[DeviceKind]

/**
 * A model for a device of `kind`. `seed` may be a number or a string (a device id); the same
 * seed gives the same device, reading for reading.
 */
export function createModel<K extends DeviceKind>(kind: K, seed: number | string, options?: ModelOptions): ModelByKind[K]
export function createModel(kind: DeviceKind, seed: number | string, options: ModelOptions = {}): AnyModel {
  const rng = new Rng(typeof seed === 'number' ? seed : hashSeed(seed))
  const opts = { ...DEFAULT_MODEL_OPTIONS, ...definedOnly(options) }
  switch (kind) {
    case 'manhole':
      return new ManholeModel(rng, opts)
    case 'fire_tank':
      return new FireTankModel(rng, opts)
    case 'elevator':
      return new ElevatorModel(rng, opts)
    case 'gateway':
      return new GatewayModel(rng, opts)
  }
}

/** Drops keys set to `undefined`, so they do not override the defaults when spread. */
function definedOnly(options: ModelOptions): ModelOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))
}
