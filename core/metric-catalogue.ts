// The metric catalogue: device kinds and, per kind, each metric's unit, physical range and meaning.
// Data only, with no imports, so the browser console bundles it without the contract's zod schemas;
// core/contract.ts re-exports it and stays the one place the rest of the code imports it from.

export const DEVICE_KINDS = ['manhole', 'fire_tank', 'elevator', 'gateway'] as const
export type DeviceKind = (typeof DEVICE_KINDS)[number]

export interface MetricSpec {
  unit: string
  /** Physical range: a reading outside it is a sensor or wiring fault, not a measurement. */
  min: number
  max: number
  boolean?: true
  description: string
}

const bool = (description: string): MetricSpec => ({ unit: 'bool', min: 0, max: 1, boolean: true, description })
const battery: MetricSpec = { unit: '%', min: 0, max: 100, description: 'battery charge' }
const rssi: MetricSpec = { unit: 'dBm', min: -140, max: 0, description: 'radio signal strength' }

/** The metric catalogue per device kind. Booleans are stored as 0/1. */
export const METRICS = {
  manhole: {
    cover_tilt_deg: { unit: 'deg', min: 0, max: 90, description: 'cover tilt from horizontal' },
    cover_open: bool('cover lifted off its seat'),
    water_level_cm: { unit: 'cm', min: 0, max: 1000, description: 'water level above the well floor' },
    gas_lel_pct: { unit: '%LEL', min: 0, max: 100, description: 'combustible gas, % of lower explosive limit' },
    battery_pct: battery,
    rssi_dbm: rssi,
  },
  fire_tank: {
    water_level_m: { unit: 'm', min: 0, max: 30, description: 'water depth in the tank' },
    water_temp_c: { unit: '°C', min: -40, max: 80, description: 'water temperature' },
    outlet_pressure_kpa: { unit: 'kPa', min: 0, max: 2500, description: 'pressure at the outlet main' },
    battery_pct: battery,
  },
  elevator: {
    running: bool('car in motion'),
    speed_mps: { unit: 'm/s', min: 0, max: 20, description: 'car speed' },
    car_load_kg: { unit: 'kg', min: 0, max: 5000, description: 'car load' },
    vibration_mg: { unit: 'mg', min: 0, max: 10_000, description: 'car vibration, RMS' },
    door_faults: { unit: 'count', min: 0, max: 10_000, description: 'door faults since the last report' },
    trapped: bool('passenger entrapment detected'),
    machine_room_temp_c: { unit: '°C', min: -40, max: 100, description: 'machine room temperature' },
  },
  gateway: {
    rssi_dbm: rssi,
    children_online: { unit: 'count', min: 0, max: 10_000, description: 'child devices heard recently' },
  },
} as const satisfies Record<DeviceKind, Record<string, MetricSpec>>

export type MetricName<K extends DeviceKind = DeviceKind> = keyof (typeof METRICS)[K] & string

export function metricSpec(kind: DeviceKind, metric: string): MetricSpec | undefined {
  const specs: Record<string, MetricSpec> = METRICS[kind]
  return Object.hasOwn(specs, metric) ? specs[metric] : undefined
}
