// The simulators' public surface: device models, the gateway, scenarios and the fleet runner.
export { Fleet, type FleetDevice, type FleetOptions, type FleetProgress } from './fleet.ts'
export { ChirpStackSimulator, simulatedDevEui, upEvent, uplinkOf, em320TiltFrame, ldds75Frame, type LoraDevice } from './chirpstack.ts'
export type { FleetCounters } from './client.ts'
export { HTTP_VIAS, HttpConnection, isHttpVia, onlineRequest, pushRequests, sendPush, type HttpTarget, type HttpVia, type PushRequest } from './http.ts'
export { FAULTS, isFault, faultAppliesTo, FaultNotApplicableError, type Fault } from './faults.ts'
export { SCENARIOS, isScenario, planScenario, type ScenarioName, type FaultAssignment, type ScenarioOptions } from './scenarios.ts'
export { DeviceUnit, type OutgoingMessage, type SimUnit } from './device.ts'
export { Gateway, STRANGER_ID, type GatewayBatch, type GatewayChild } from './gateway.ts'
export { BAD_VARIANTS, UNKNOWN_METRIC, type BadVariant } from './bad-payloads.ts'
export {
  createModel,
  DeviceModel,
  DEFAULT_MODEL_OPTIONS,
  ElevatorModel,
  FireTankModel,
  GatewayModel,
  ManholeModel,
  elevatorTraffic,
  type AnyModel,
  type ModelByKind,
  type ModelOptions,
  type Values,
} from './models/index.ts'
export { Rng, hashSeed } from './rng.ts'
