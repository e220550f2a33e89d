// What the default rules are called and why they matter, in every language the people on the
// other end read: the one copy of this text. The catalogue (rules/catalogue.ts) takes its English
// names and descriptions from here, the console bundles this module to title alerts in the reader's
// language, and notify/render.ts titles each message in its recipient's. It imports nothing, so
// Vite can bundle it for the browser as it is.
//
// An alert of a default rule carries the rule id (`ruleId`) as its key; an alert of an operator's
// own rule has no entry and keeps the title it was raised with.

export const TEXT_LANGS = ['en', 'zh-CN'] as const
export type TextLang = (typeof TEXT_LANGS)[number]

export interface RuleText {
  /** The alert's title. */
  title: string
  /** Why the condition matters and what to do: the rule's description. */
  why: string
}

type Entry = Record<TextLang, RuleText>

export const RULE_TEXT = {
  // ---- Manhole covers
  'manhole-cover-displaced': {
    en: { title: 'Manhole cover displaced', why: 'An open or tilted cover is a fall hazard for pedestrians and vehicles; someone must inspect and reseat it.' },
    'zh-CN': { title: '井盖移位', why: '井盖打开或倾斜，行人和车辆有坠落危险；须派人查看并复位。' },
  },
  'manhole-sewer-overflow': {
    en: { title: 'Sewer overflow risk', why: 'Water high in the well for 2 min: the sewer is backing up and may overflow into the street.' },
    'zh-CN': { title: '污水满溢风险', why: '井内高水位持续 2 分钟：管道倒灌，可能漫溢到路面。' },
  },
  'manhole-water-rising': {
    en: { title: 'Well water rising fast', why: 'Water rising faster than heavy rain fills a well: a blockage downstream or a burst main, overflow to come.' },
    'zh-CN': { title: '井内水位快速上涨', why: '水位上涨快于暴雨时的正常速度：下游堵塞或供水管爆裂，即将满溢。' },
  },
  'manhole-gas-danger': {
    en: { title: 'Combustible gas in the well', why: 'Gas at 25 % of its lower explosive limit (a common high-alarm set point) for 30 s: explosion risk; keep people and sparks away.' },
    'zh-CN': { title: '井内可燃气体超标', why: '可燃气体达到爆炸下限的 25 %（常用高限报警值）持续 30 秒：有爆炸危险，人员和火源远离。' },
  },
  'manhole-gas-persistent': {
    en: { title: 'Gas not airing out', why: 'Gas at 10 % LEL (the confined-space hazard limit, OSHA 1910.146) for 20 min: a leak, not a pocket airing out; no entry without ventilation.' },
    'zh-CN': { title: '可燃气体持续未散', why: '可燃气体达到 10 % LEL（有限空间危险限值，OSHA 1910.146）持续 20 分钟：是泄漏而非积气散去；未通风不得下井。' },
  },
  'manhole-low-battery': {
    en: { title: 'Manhole sensor battery low', why: 'Battery below 15 %: replace it before the cover goes unmonitored.' },
    'zh-CN': { title: '井盖传感器电量低', why: '电量低于 15 %：请在井盖失去监测前更换电池。' },
  },
  // ---- Fire-fighting water tanks
  'fire-tank-below-reserve': {
    en: { title: 'Fire tank below reserve', why: 'Water below the fire reserve for 60 s: hydrants and sprinklers may run dry in a fire; find the leak or failed pump.' },
    'zh-CN': { title: '消防水箱低于储备水位', why: '水位低于消防储备水位持续 60 秒：火灾时消火栓和喷淋可能无水；请查找漏点或故障水泵。' },
  },
  'fire-tank-reserve-forecast': {
    en: { title: 'Fire tank predicted below reserve', why: 'The level trend reaches the fire reserve within 2 h: act before the tank is short.' },
    'zh-CN': { title: '消防水箱预计低于储备水位', why: '按水位趋势，2 小时内将降到消防储备水位：请在缺水前处理。' },
  },
  'fire-tank-freezing': {
    en: { title: 'Fire tank water near freezing', why: 'Water below 2 °C for 5 min: ice can block the outlet and burst pipes; check the heating and insulation.' },
    'zh-CN': { title: '消防水箱水温接近冰点', why: '水温低于 2 °C 持续 5 分钟：结冰会堵塞出水口、冻裂管道；请检查加热和保温。' },
  },
  'fire-tank-low-pressure': {
    en: { title: 'Fire main pressure low', why: 'Outlet pressure below 60 kPa for 60 s: a closed valve, burst pipe or empty tank; hydrants would not deliver.' },
    'zh-CN': { title: '消防管网压力低', why: '出水压力低于 60 kPa 持续 60 秒：阀门关闭、管道爆裂或水箱已空；消火栓将无法出水。' },
  },
  'fire-tank-low-battery': {
    en: { title: 'Fire tank sensor battery low', why: 'Battery below 15 %: replace it before the tank goes unmonitored.' },
    'zh-CN': { title: '消防水箱传感器电量低', why: '电量低于 15 %：请在水箱失去监测前更换电池。' },
  },
  // ---- Elevators
  'elevator-entrapment': {
    en: { title: 'Passengers trapped', why: 'People trapped in the car: acknowledge within 5 min and free them within 30 min.' },
    'zh-CN': { title: '电梯困人', why: '轿厢内有人被困：5 分钟内确认，30 分钟内解救。' },
  },
  'elevator-overspeed': {
    en: { title: 'Elevator overspeed', why: 'Car faster than 3.5 m/s for 5 s: the speed governor or brake may have failed; take it out of service.' },
    'zh-CN': { title: '电梯超速', why: '轿厢速度超过 3.5 m/s 持续 5 秒：限速器或制动器可能失效；请停梯检修。' },
  },
  'elevator-vibration': {
    en: { title: 'Abnormal elevator vibration', why: 'Vibration above 1500 mg for 60 s: worn guide rails, rollers or bearings; needs an inspection.' },
    'zh-CN': { title: '电梯振动异常', why: '振动超过 1500 mg 持续 60 秒：导轨、滚轮或轴承磨损；需要检查。' },
  },
  'elevator-door-faults': {
    en: { title: 'Repeated door faults', why: '3 or more door faults within 10 min: a failing door operator or a blocked sill; doors trap and injure.' },
    'zh-CN': { title: '电梯门频繁故障', why: '10 分钟内门故障 3 次及以上：门机故障或地坎堵塞；电梯门可能夹人伤人。' },
  },
  'elevator-machine-room-hot': {
    en: { title: 'Machine room overheating', why: 'Machine room above 40 °C for 5 min: drives and controllers shut down or age fast; check the ventilation.' },
    'zh-CN': { title: '电梯机房过热', why: '机房温度超过 40 °C 持续 5 分钟：驱动和控制柜会停机或加速老化；请检查通风。' },
  },
  // ---- Any device offline
  'manhole-offline': {
    en: { title: 'Manhole sensor offline', why: 'Device silent for 3 expected intervals or disconnected (Last Will): its hazards go unseen.' },
    'zh-CN': { title: '井盖传感器离线', why: '设备连续 3 个上报周期无数据或已断开（遗嘱消息）：其隐患无人看见。' },
  },
  'fire-tank-offline': {
    en: { title: 'Fire tank sensor offline', why: 'Device silent for 3 expected intervals or disconnected (Last Will): its hazards go unseen.' },
    'zh-CN': { title: '消防水箱传感器离线', why: '设备连续 3 个上报周期无数据或已断开（遗嘱消息）：其隐患无人看见。' },
  },
  'elevator-offline': {
    en: { title: 'Elevator monitor offline', why: 'Device silent for 3 expected intervals or disconnected (Last Will): its hazards go unseen.' },
    'zh-CN': { title: '电梯监测终端离线', why: '设备连续 3 个上报周期无数据或已断开（遗嘱消息）：其隐患无人看见。' },
  },
  'gateway-offline': {
    en: {
      title: 'Gateway offline',
      why: 'Gateway silent for 3 expected intervals or disconnected: all its devices are unmonitored (their own offline alerts are held back under it).',
    },
    'zh-CN': { title: '网关离线', why: '网关连续 3 个上报周期无数据或已断开：其下所有设备失去监测（这些设备各自的离线告警归并在网关告警下）。' },
  },
} as const satisfies Record<string, Entry>

export type CatalogueRuleId = keyof typeof RULE_TEXT

/** A default rule's text in `lang`; undefined for an operator's own rule (it has no entry). */
export function ruleText(ruleId: string, lang: TextLang): RuleText | undefined {
  const entry: Record<string, Entry> = RULE_TEXT
  return Object.hasOwn(entry, ruleId) ? entry[ruleId]?.[lang] : undefined
}

/**
 * A stored reason in `lang`: an alert raised without a reason of its own stores its rule's English
 * description (alerts/service.ts), which reads in the reader's language here; any other text as stored.
 */
export function storedReasonIn(ruleId: string, stored: string | null, lang: TextLang): string | null {
  const text = ruleText(ruleId, 'en')
  return text !== undefined && stored === text.why ? (ruleText(ruleId, lang)?.why ?? stored) : stored
}
