// The demo district's names (issue 21: Chinese throughout). A Shanghai office's registry holds
// Chinese names — 莘庄花园, 虹桥物业服务有限公司, 3号电梯 — so the demo does too (core/provision.ts
// names it from here). A reader of the English console gets them in English: this table for the
// demo's companies, communities and streets, and the patterns of its device names (which are also
// how an office numbers its own, "12号电梯"). Any other name stays as the office wrote it: a
// registry is data, not text to translate. Imports nothing, so Vite bundles it for the browser.

/** The demo's proper names, Chinese first, as a person in the English console reads them. */
export const DEMO_NAMES = {
  jinxiu: ['锦绣物业管理有限公司', 'Jinxiu Property Management Co.'],
  hongqiao: ['虹桥物业服务有限公司', 'Hongqiao Property Services Co.'],
  gumei: ['古美三村', 'Gumei No. 3 Village'],
  xinzhuang: ['莘庄花园', 'Xinzhuang Garden'],
  minhang: ['闵行区', 'Minhang'],
  gumeiRoad: ['古美路', 'Gumei Road'],
  xinzhuangTown: ['莘庄镇', 'Xinzhuang Town'],
  gumeiSubdistrict: ['古美路街道', 'Gumei Road Subdistrict'],
  gumeiAddress: ['古美路215号', '215 Gumei Road'],
  xinzhuangAddress: ['莘建路88号', '88 Xinjian Road'],
} as const satisfies Record<string, readonly [string, string]>

const EXACT = new Map<string, string>(Object.values(DEMO_NAMES))

/** How the demo names its devices, in Chinese; `numbered` reads them back in English. */
export const DEMO_DEVICE_NAME = {
  gateway: (community: string) => `${community} LoRa 网关`,
  manhole: (n: number) => `${n}号井盖`,
  fire_tank: (n: number) => `${n}号消防水箱`,
  elevator: (n: number) => `${n}号电梯`,
} as const

const NUMBERED: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^(.+) LoRa 网关$/, (m) => `${EXACT.get(m[1] ?? '') ?? m[1] ?? ''} LoRa gateway`],
  [/^(\d+)号井盖$/, (m) => `Manhole cover ${m[1] ?? ''}`],
  [/^(\d+)号消防水箱$/, (m) => `Fire water tank ${m[1] ?? ''}`],
  [/^(\d+)号电梯$/, (m) => `Elevator ${m[1] ?? ''}`],
]

/** A registry name as a reader of `lang` sees it: the demo's in English for English, anything else as stored. */
export function nameIn(lang: 'en' | 'zh-CN', name: string): string {
  if (lang !== 'en') return name
  const exact = EXACT.get(name)
  if (exact !== undefined) return exact
  for (const [pattern, english] of NUMBERED) {
    const m = pattern.exec(name)
    if (m) return english(m)
  }
  return name
}
