// What the shipped device profiles (core/profiles/catalogue.ts) are called, in every language the
// console speaks: the one copy of these names, as catalogue-text.ts is of the default rules'. The
// catalogue takes its English from here; the console names a shipped profile in the reader's
// language unless the office renamed it. Brands and model numbers stay as their makers write them.
// Imports nothing: the console bundles it.
import type { TextLang } from './catalogue-text.ts'

export const PROFILE_NAMES = {
  'milesight-em320-tilt': { en: 'Milesight EM320-TILT manhole cover tilt sensor', 'zh-CN': 'Milesight EM320-TILT 井盖倾角传感器' },
  'dragino-ldds75-tank': { en: 'Dragino LDDS75 ultrasonic level sensor on a fire tank', 'zh-CN': 'Dragino LDDS75 消防水箱超声波液位传感器' },
  'elevator-dtu-json': { en: 'Elevator monitoring DTU (JSON, GB/T 24476 running status)', 'zh-CN': '电梯监测 DTU（JSON 格式，GB/T 24476 运行状态）' },
} as const satisfies Record<string, Record<TextLang, string>>

/** A profile's name in `lang`: a shipped one's, unless it was renamed (`stored` differs from ours); else as stored. */
export function profileName(id: string, stored: string, lang: TextLang): string {
  const names: Record<string, Record<TextLang, string>> = PROFILE_NAMES
  const ours = Object.hasOwn(names, id) ? names[id] : undefined
  return ours !== undefined && ours.en === stored ? ours[lang] : stored
}
