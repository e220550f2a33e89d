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

/** Every metric name of the catalogue, whatever the kind. */
export type MetricId = { [K in DeviceKind]: keyof (typeof METRICS)[K] & string }[DeviceKind]

/** Whether `metric` is a yes/no reading (stored as 0/1) of any kind. */
export function isBooleanMetric(metric: string): boolean {
  return DEVICE_KINDS.some((kind) => metricSpec(kind, metric)?.boolean === true)
}

/**
 * What each metric is called, in each language people read: the console's `metric.*` strings and
 * the alert reasons in Chinese (shared/reason-text.ts) both take them from here, so a screen and a
 * text message name a metric the same way. The English reason text keeps the metric id.
 */
export const METRIC_LABELS = {
  cover_tilt_deg: { en: 'Cover tilt', 'zh-CN': '井盖倾角' },
  cover_open: { en: 'Cover open', 'zh-CN': '井盖开启' },
  water_level_cm: { en: 'Water level in well', 'zh-CN': '井内水位' },
  gas_lel_pct: { en: 'Combustible gas', 'zh-CN': '可燃气体浓度' },
  battery_pct: { en: 'Battery', 'zh-CN': '电池电量' },
  rssi_dbm: { en: 'Signal strength', 'zh-CN': '信号强度' },
  water_level_m: { en: 'Water level', 'zh-CN': '水位' },
  water_temp_c: { en: 'Water temperature', 'zh-CN': '水温' },
  outlet_pressure_kpa: { en: 'Outlet pressure', 'zh-CN': '出水压力' },
  running: { en: 'Running', 'zh-CN': '运行中' },
  speed_mps: { en: 'Speed', 'zh-CN': '运行速度' },
  car_load_kg: { en: 'Car load', 'zh-CN': '轿厢载重' },
  vibration_mg: { en: 'Vibration', 'zh-CN': '振动' },
  door_faults: { en: 'Door faults', 'zh-CN': '门故障次数' },
  trapped: { en: 'Passengers trapped', 'zh-CN': '困人' },
  machine_room_temp_c: { en: 'Machine room temperature', 'zh-CN': '机房温度' },
  children_online: { en: 'Devices online', 'zh-CN': '在线子设备' },
} as const satisfies Record<MetricId, Record<'en' | 'zh-CN', string>>

/** A metric's name in `lang`; undefined for a metric the catalogue does not have. */
export function metricLabel(metric: string, lang: 'en' | 'zh-CN'): string | undefined {
  const labels: Record<string, Record<'en' | 'zh-CN', string>> = METRIC_LABELS
  return Object.hasOwn(labels, metric) ? labels[metric]?.[lang] : undefined
}
