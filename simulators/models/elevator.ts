// An elevator monitored by a car-top/machine-room box: motion, speed, load, vibration, door
// faults, entrapment detection and the machine room thermometer.
import { METRICS } from '../../core/contract.ts'
import type { Rng } from '../rng.ts'
import { DeviceModel, bump, clamp, round, type ResolvedModelOptions, type Values } from './base.ts'

const M = METRICS.elevator
const KG_PER_PERSON = 70

/**
 * Share of the time a residential elevator is in use, by local hour: quiet at night, a sharp
 * morning peak (leaving for work/school), a broader evening peak (coming home), some midday use.
 */
export function elevatorTraffic(hour: number): number {
  return clamp(0.05 + 0.85 * bump(hour, 8, 0.9) + 0.7 * bump(hour, 18.5, 1.2) + 0.25 * bump(hour, 12.5, 1.5), 0, 1)
}

export class ElevatorModel extends DeviceModel<'elevator'> {
  readonly kind = 'elevator' as const
  private readonly ratedSpeed: number
  private readonly capacityPersons: number
  private readonly baseRoomC: number
  /** Motor heat in the machine room follows the recent traffic, not the instant. */
  private heat = 0
  private trappedLoadKg = 0

  constructor(rng: Rng, opts: ResolvedModelOptions) {
    super(rng, opts)
    this.ratedSpeed = rng.pick([1.0, 1.5, 1.75, 2.0, 2.5])
    this.capacityPersons = rng.pick([8, 10, 13, 16])
    this.baseRoomC = rng.uniform(20, 26)
  }

  protected advance(nowMs: number, dtMin: number): Values<'elevator'> {
    const rng = this.rng
    const hour = this.localHour(nowMs)
    const traffic = elevatorTraffic(hour)
    // Exponential smoothing over ~30 min of motor duty.
    const k = 1 - Math.exp(-dtMin / 30)
    this.heat += (traffic - this.heat) * k
    const roomC = this.baseRoomC + 4 * Math.sin((2 * Math.PI * (hour - 9)) / 24) + 4 * this.heat + rng.normal(0, 0.3)
    const machineRoom = round(clamp(roomC, M.machine_room_temp_c.min, M.machine_room_temp_c.max), 1)

    if (this.has('entrapment')) {
      // Whoever was in the car stays in it: at least one person.
      if (this.trappedLoadKg === 0) this.trappedLoadKg = KG_PER_PERSON * rng.int(1, 3)
      return {
        running: false,
        speed_mps: 0,
        car_load_kg: this.trappedLoadKg,
        vibration_mg: round(Math.abs(rng.normal(2, 1)), 1),
        door_faults: 0,
        trapped: true,
        machine_room_temp_c: machineRoom,
      }
    }
    this.trappedLoadKg = 0

    const running = rng.chance(0.1 + 0.8 * traffic)
    const speed = running ? this.ratedSpeed * rng.uniform(0.5, 1) : 0
    const persons = running ? clamp(Math.round(rng.normal(traffic * this.capacityPersons * 0.6, 1.5)), 0, this.capacityPersons) : rng.chance(0.1) ? 1 : 0
    const load = persons * rng.uniform(55, 85)
    const vibration = running ? 15 + 8 * speed + Math.abs(rng.normal(0, 4)) : Math.abs(rng.normal(2, 1))
    // Door faults grow with door cycles: a handful a day in a busy building.
    const doorFaults = rng.poisson(dtMin * (0.0005 + 0.005 * traffic))

    return {
      running,
      speed_mps: round(speed, 2),
      car_load_kg: Math.round(clamp(load, M.car_load_kg.min, M.car_load_kg.max)),
      vibration_mg: round(clamp(vibration, M.vibration_mg.min, M.vibration_mg.max), 1),
      door_faults: clamp(doorFaults, M.door_faults.min, M.door_faults.max),
      trapped: false,
      machine_room_temp_c: machineRoom,
    }
  }
}
