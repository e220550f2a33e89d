// Where a device is, in words a crew member can follow to the door (issue 20): building, unit,
// floor and a free position text, each optional, with the elevator's registration and rescue codes.
// The one copy of the bounds (the API, the CSV import and the console check against these; the
// migration's CHECKs state the same numbers) and of the text: the console shows it on the board, the
// crew cards and the alert detail, and notifications are to use it too. Browser-safe: imports only
// shared/ types.
import type { TextLang } from './catalogue-text.ts'

/** Longest value of each place field, in characters (migration 18 checks the same). */
export const PLACE_MAX = { building: 40, unit: 40, floor: 20, location: 200 } as const
export type PlaceField = keyof typeof PLACE_MAX

/**
 * An elevator's 电梯注册代码 is 20 digits in China; older and other registries differ, so 1–40
 * letters, digits and hyphens are taken as written. The 救援识别码 (rescue code) at most 20.
 */
export const ELEVATOR_CODE = {
  registrationCode: { pattern: /^[0-9A-Za-z-]{1,40}$/, max: 40 },
  rescueCode: { pattern: /^[0-9A-Za-z-]{1,20}$/, max: 20 },
} as const
export type ElevatorCodeField = keyof typeof ELEVATOR_CODE

/** Where a device is, as the registry keeps it (core/repos/devices.ts) and the console reads it. */
export interface DevicePlace {
  building: string | null
  unit: string | null
  floor: string | null
  /** A free position text: "3号楼东侧消防通道井盖". */
  location: string | null
  /** 电梯注册代码: elevators only. */
  registrationCode: string | null
  /** 救援识别码: elevators only. */
  rescueCode: string | null
}

/** What placeText words: a device's place with its community's and its own name, each optional. */
export interface Place {
  community?: string | null | undefined
  building?: string | null | undefined
  unit?: string | null | undefined
  floor?: string | null | undefined
  location?: string | null | undefined
  device?: string | null | undefined
}

/** A bare number or code ("3", "B1", "12A") takes the word for its field; "3号楼", "Tower A" stay as written. */
const BARE = /^[0-9A-Za-z-]+$/

const WORDS: Record<TextLang, { building: (v: string) => string; unit: (v: string) => string; floor: (v: string) => string; sep: string }> = {
  en: { building: (v) => `Bldg ${v}`, unit: (v) => `Unit ${v}`, floor: (v) => `Floor ${v}`, sep: ', ' },
  'zh-CN': { building: (v) => `${v}号楼`, unit: (v) => `${v}单元`, floor: (v) => `${v}层`, sep: ' ' },
}

const filled = (v: string | null | undefined): v is string => typeof v === 'string' && v.trim() !== ''

/**
 * "community · 3号楼 2单元 12层 · position · device" (zh-CN) or "community · Bldg 3, Unit 2,
 * Floor 12 · position · device" (en); parts that are missing or empty are left out.
 */
export function placeText(lang: TextLang, p: Place): string {
  const w = WORDS[lang]
  const rooms = (['building', 'unit', 'floor'] as const).flatMap((k) => {
    const v = p[k]
    if (!filled(v)) return []
    const text = v.trim()
    return [BARE.test(text) ? w[k](text) : text]
  })
  return [p.community, rooms.join(w.sep), p.location, p.device]
    .filter(filled)
    .map((s) => s.trim())
    .join(' · ')
}

/**
 * A link that opens the phone's map app at a point: the geo URI of RFC 5870, with the `q=` query
 * Android's and most apps' readers take to drop a labelled pin.
 */
export function geoLink(latitude: number, longitude: number, label: string): string {
  const at = `${latitude},${longitude}`
  // Parentheses delimit the label, so one inside it is escaped too (encodeURIComponent leaves them).
  const text = encodeURIComponent(label).replace(/\(/g, '%28').replace(/\)/g, '%29')
  return `geo:${at}?q=${at}(${text})`
}
