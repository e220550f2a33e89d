// What a CSV import says is wrong with a file, in every language the console speaks: the one copy
// of this text. The API sends each problem as a stable `code` with the `params` its text
// interpolates, plus the English `message` rendered here (API clients and scripts read that,
// unchanged); the console bundles this module and renders the same code in the operator's language,
// falling back to `message` for a code it does not know (a newer server). Like
// shared/catalogue-text.ts it imports nothing, so Vite bundles it for the browser as it is.
//
// Column names (id, kind, community …), kinds and ids stay as the CSV spells them in both
// languages: they are what the operator searches for in the spreadsheet. The English is the text
// the API has always sent, but for the article before a kind ("an elevator"; it said "a elevator").
import { withArticle } from './text.ts'
import type { TextLang } from './catalogue-text.ts'

/** The columns a device import reads, in the order the console's template writes them. */
export const IMPORT_COLUMNS = [
  'id',
  'name',
  'kind',
  'profile',
  'community',
  'gateway',
  'latitude',
  'longitude',
  'dev_eui',
  'imei',
  'building',
  'unit',
  'floor',
  'location',
  'registration_code',
  'rescue_code',
] as const
export type ImportColumn = (typeof IMPORT_COLUMNS)[number]

/** The columns a hotline-case import reads (api/hotline/import.ts); the JSON API names them in camelCase. */
export const HOTLINE_COLUMNS = ['case_no', 'received_at', 'community', 'category', 'summary', 'handled_at', 'satisfaction'] as const
export type HotlineColumn = (typeof HOTLINE_COLUMNS)[number]

/** A parameter's value as it travels in JSON. */
export type ParamValue = string | number

type Render<K extends string> = (p: Readonly<Record<K, ParamValue>>) => string

interface Entry<K extends string> {
  /** The params the text needs; a problem missing one is rendered from its `message` instead. */
  params: readonly K[]
  text: Record<TextLang, Render<K>>
}

function entry<const K extends string = never>(params: readonly K[], en: Render<K>, zh: Render<K>): Entry<K> {
  return { params, text: { en, 'zh-CN': zh } }
}

/**
 * csv-parse's error codes (CsvError.code) for the mistakes a spreadsheet file can hold, in Chinese;
 * another code keeps the parser's English words (its detail), still under a Chinese lead-in.
 */
const CSV_REASONS_ZH: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: '有一个英文双引号没有配对闭合',
  CSV_INVALID_CLOSING_QUOTE: '英文双引号闭合后紧跟着其他字符（单元格内的引号要写成两个 ""）',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: '英文双引号闭合后紧跟着其他字符（单元格内的引号要写成两个 ""）',
  CSV_MAX_RECORD_SIZE: '有一行超过 64 KB',
}

const degrees = (column: ParamValue) => (column === 'latitude' ? '纬度' : column === 'longitude' ? '经度' : String(column))

/** A DevEUI or IMEI a second time in the file: each names one device. */
function onceInFile(label: 'DevEUI' | 'IMEI') {
  return entry(
    ['value', 'first'],
    (p) => `${p.value} is already on row ${p.first}; it names one device`,
    (p) => `${p.value} 在第 ${p.first} 行已经出现；一个 ${label} 只对应一台设备`,
  )
}

/** A DevEUI or IMEI that a registered device already has. */
const TAKEN = entry(
  ['value', 'device'],
  (p) => `${p.value} already names the registered device "${p.device}"`,
  (p) => `${p.value} 已被已登记的设备 "${p.device}" 使用`,
)

/** One entry a problem of a row or of the header: what api/devices/import.ts reports. */
export const IMPORT_PROBLEM_TEXT = {
  // ---- The file as a whole
  csv_invalid: entry(
    ['detail', 'reason'],
    (p) => `the file is not valid CSV: ${p.detail}`,
    (p) => `文件不是有效的 CSV：${CSV_REASONS_ZH[p.reason] ?? p.detail}`,
  ),
  file_empty: entry(
    ['columns'],
    (p) => `the file is empty; the first row must name the columns (${p.columns})`,
    (p) => `文件是空的：第一行应为列名（${p.columns}）`,
  ),
  no_devices: entry(
    [],
    () => 'the file names the columns but lists no device',
    () => '文件只有表头，没有设备',
  ),
  too_many_rows: entry(
    ['rows', 'max'],
    (p) => `the file lists ${p.rows} devices; at most ${p.max} go in one import — split it into several files`,
    (p) => `文件列出了 ${p.rows} 台设备，一次最多导入 ${p.max} 台：请拆分成几个文件`,
  ),
  // ---- The header
  unknown_column: entry(
    ['column', 'columns'],
    (p) => `unknown column "${p.column}"; the columns are ${p.columns}`,
    (p) => `没有 "${p.column}" 这一列；可用的列为 ${p.columns}`,
  ),
  column_twice: entry(
    ['column'],
    (p) => `the column "${p.column}" is named twice`,
    (p) => `"${p.column}" 列出现了两次`,
  ),
  column_required: entry(
    ['column', 'required'],
    (p) => `the header has no "${p.column}" column; ${p.required} are required`,
    (p) => `表头缺少 "${p.column}" 列；${p.required} 是必填列`,
  ),
  // ---- A row
  cell_count: entry(
    ['cells', 'columns'],
    (p) => `the row has ${p.cells} cells, the header ${p.columns} (a comma in a name needs the name in double quotes)`,
    (p) => `此行有 ${p.cells} 个单元格，表头只有 ${p.columns} 列（名称中有逗号时，要用英文双引号把名称括起来）`,
  ),
  nul_character: entry(
    [],
    () => 'contains the NUL character; remove it',
    () => '含有空字符（NUL），请删除',
  ),
  id_missing: entry(
    [],
    () => 'missing; every device needs an id',
    () => '未填写：每台设备都要有 id',
  ),
  id_invalid: entry(
    ['id'],
    (p) => `"${p.id}" is not a valid id: 1–64 characters of A–Z, a–z, 0–9, _ . : - (not starting with a symbol)`,
    (p) => `"${p.id}" 不是有效的 id：应为 1–64 个字符，只能用 A–Z、a–z、0–9 和 _ . : -，且不能以符号开头`,
  ),
  id_repeated: entry(
    ['id', 'first'],
    (p) => `"${p.id}" is already on row ${p.first}; each device once`,
    (p) => `"${p.id}" 在第 ${p.first} 行已经出现；每台设备只写一次`,
  ),
  id_registered: entry(
    ['id'],
    (p) => `a device "${p.id}" is already registered; leave it out, or rotate its secret in the registry`,
    (p) => `设备 "${p.id}" 已经登记：请从文件中删去这一行；如要新密钥，请在登记管理中更换密钥`,
  ),
  name_too_long: entry(
    ['length', 'max'],
    (p) => `${p.length} characters; at most ${p.max}`,
    (p) => `共 ${p.length} 个字符，最多 ${p.max} 个`,
  ),
  kind_missing: entry(
    ['kinds'],
    (p) => `missing; one of ${p.kinds}`,
    (p) => `未填写：应为 ${p.kinds} 之一`,
  ),
  kind_unknown: entry(
    ['kind', 'kinds'],
    (p) => `"${p.kind}" is not a kind; one of ${p.kinds}`,
    (p) => `"${p.kind}" 不是设备类型：应为 ${p.kinds} 之一`,
  ),
  community_missing: entry(
    [],
    () => 'missing; the id of the community the device is in',
    () => '未填写：请填设备所在小区的编号',
  ),
  community_unknown: entry(
    ['community'],
    (p) => `no community "${p.community}"; create it in the registry first, or fix the id`,
    (p) => `小区 "${p.community}" 不存在：请先在登记管理中创建，或改正编号`,
  ),
  profile_unknown: entry(
    ['profile'],
    (p) => `no device profile "${p.profile}"; see GET /api/v1/profiles`,
    (p) => `设备配置文件 "${p.profile}" 不存在：现有的配置文件见登记管理的“设备配置文件”页`,
  ),
  profile_kind: entry(
    ['profile', 'profileKind', 'kind'],
    (p) => `"${p.profile}" is a profile for ${p.profileKind} devices, this row is ${withArticle(String(p.kind))}`,
    (p) => `"${p.profile}" 是 ${p.profileKind} 设备的配置文件，而这一行是 ${p.kind}`,
  ),
  gateway_on_gateway: entry(
    [],
    () => 'a gateway reports for itself; leave this empty',
    () => '网关自己上报数据，此处请留空',
  ),
  gateway_self: entry(
    [],
    () => 'a device cannot be its own gateway',
    () => '设备不能以自己为网关',
  ),
  gateway_unknown: entry(
    ['gateway'],
    (p) => `no gateway "${p.gateway}" registered or in this file`,
    (p) => `网关 "${p.gateway}" 既没有登记，也不在本文件中`,
  ),
  gateway_not_gateway: entry(
    ['gateway', 'kind'],
    (p) => `"${p.gateway}" is not a gateway (it is ${withArticle(String(p.kind))} device)`,
    (p) => `"${p.gateway}" 不是网关（它是 ${p.kind} 设备）`,
  ),
  coordinate_invalid: entry(
    ['column', 'value', 'limit'],
    (p) => `"${p.value}" is not a ${p.column} in degrees from -${p.limit} to ${p.limit} (decimal, like 31.1520)`,
    (p) => `"${p.value}" 不是有效的${degrees(p.column)}：应为 -${p.limit} 到 ${p.limit} 之间的十进制度数，如 31.1520`,
  ),
  coordinates_pair: entry(
    [],
    () => 'give latitude and longitude together, or neither',
    () => 'latitude 和 longitude 要么都填，要么都不填',
  ),
  dev_eui_invalid: entry(
    ['value'],
    (p) => `"${p.value}" is not valid; a DevEUI is 16 hexadecimal digits`,
    (p) => `"${p.value}" 无效：DevEUI 应为 16 位十六进制数字`,
  ),
  dev_eui_repeated: onceInFile('DevEUI'),
  dev_eui_taken: TAKEN,
  imei_invalid: entry(
    ['value'],
    (p) => `"${p.value}" is not valid; an IMEI is 15 digits`,
    (p) => `"${p.value}" 无效：IMEI 应为 15 位数字`,
  ),
  imei_repeated: onceInFile('IMEI'),
  imei_taken: TAKEN,
  place_too_long: entry(
    ['length', 'max'],
    (p) => `${p.length} characters; at most ${p.max}, shorten it`,
    (p) => `共 ${p.length} 个字符，最多 ${p.max} 个：请缩短`,
  ),
  elevator_code_invalid: entry(
    ['value', 'max'],
    (p) => `"${p.value}" is not valid; 1–${p.max} letters, digits or hyphens, as on the elevator's certificate`,
    (p) => `"${p.value}" 无效：应为 1–${p.max} 位字母、数字或连字符，以电梯使用标志上的为准`,
  ),
  elevator_code_kind: entry(
    ['kind'],
    (p) => `only an elevator has this code; this row is ${withArticle(String(p.kind))}, leave it empty`,
    (p) => `只有电梯才有此代码，这一行是 ${p.kind}：请留空`,
  ),
  // ---- A 12345 hotline case (api/hotline/import.ts)
  no_cases: entry(
    [],
    () => 'the file names the columns but lists no case',
    () => '文件只有表头，没有工单',
  ),
  too_many_cases: entry(
    ['rows', 'max'],
    (p) => `${p.rows} cases; at most ${p.max} go in one import — split them`,
    (p) => `共 ${p.rows} 条工单，一次最多导入 ${p.max} 条：请分批导入`,
  ),
  case_missing: entry(
    [],
    () => 'missing; every case needs its case number',
    () => '未填写：每条工单都要有工单编号',
  ),
  case_invalid: entry(
    ['caseNo'],
    (p) => `"${p.caseNo}" is not a valid case number: 1–64 characters of A–Z, a–z, 0–9, _ . / - (not starting with a symbol)`,
    (p) => `"${p.caseNo}" 不是有效的工单编号：应为 1–64 个字符，只能用 A–Z、a–z、0–9 和 _ . / -，且不能以符号开头`,
  ),
  case_repeated: entry(
    ['caseNo', 'first'],
    (p) => `case "${p.caseNo}" is already on row ${p.first}; each case once`,
    (p) => `工单 "${p.caseNo}" 在第 ${p.first} 行已经出现；每条工单只写一次`,
  ),
  received_missing: entry(
    [],
    () => 'missing; when the hotline received the case',
    () => '未填写：请填写 12345 热线受理工单的时间',
  ),
  time_invalid: entry(
    ['value'],
    (p) => `"${p.value}" is not a time; write 2026-11-03 14:05 (China Standard Time) or RFC 3339 with an offset`,
    (p) => `"${p.value}" 不是有效的时间：请写成 2026-11-03 14:05（北京时间），或带时区的 RFC 3339 格式`,
  ),
  handled_before_received: entry(
    [],
    () => 'handled before it was received; check both times',
    () => '办结时间早于受理时间：请核对这两个时间',
  ),
  case_community_missing: entry(
    [],
    () => "missing; the community's id or its name as the registry spells it",
    () => '未填写：请填小区编号，或与登记管理中一致的小区名称',
  ),
  community_ambiguous: entry(
    ['community', 'count'],
    (p) => `${p.count} communities are named "${p.community}"; give the community's id instead`,
    (p) => `有 ${p.count} 个小区都叫 "${p.community}"：请改填小区编号`,
  ),
  satisfaction_invalid: entry(
    ['value'],
    (p) => `"${p.value}" is not a rating; 1–5, or the hotline's words for satisfied, fairly satisfied or dissatisfied (5, 3, 1), or empty when the citizen gave none`,
    (p) => `"${p.value}" 不是有效的评价：应为 1–5，或“满意”“基本满意”“不满意”；市民未评价时请留空`,
  ),
} as const

/**
 * Why a whole file was refused before or after its rows were checked (api/routes/device-import.ts):
 * sent as an error whose `details` are `{ code, params }`, the error's own `code` staying the
 * catalogue's (validation_failed, payload_too_large, conflict).
 */
export const IMPORT_REFUSAL_TEXT = {
  not_utf8: entry(
    [],
    () => 'The file is not UTF-8 text. In Excel choose Save As → "CSV UTF-8 (Comma delimited)"; other programs: save as CSV with the UTF-8 encoding',
    () => '文件不是 UTF-8 编码。在 Excel 中请选择“另存为” → “CSV UTF-8 (逗号分隔)”；其他软件请另存为 UTF-8 编码的 CSV 文件',
  ),
  file_too_large: entry(
    ['size', 'max', 'rows'],
    (p) => `The file is ${p.size}; at most ${p.max} and ${p.rows} devices go in one import — split it into several files`,
    (p) => `文件大小为 ${p.size}；一次最多导入 ${p.max}、${p.rows} 台设备：请拆分成几个文件`,
  ),
  cases_file_too_large: entry(
    ['size', 'max', 'rows'],
    (p) => `The file is ${p.size}; at most ${p.max} and ${p.rows} cases go in one import — split it into several files`,
    (p) => `文件大小为 ${p.size}；一次最多导入 ${p.max}、${p.rows} 条工单：请拆分成几个文件`,
  ),
  import_abandoned: entry(
    [],
    () => 'The connection closed before the import was written; nothing was imported',
    () => '导入写入前连接已断开，没有导入任何设备',
  ),
  import_conflict: entry(
    [],
    () => 'A device id, DevEUI or IMEI of the file was registered by someone else meanwhile; nothing was imported. Check the file again (dryRun=true) and resend it',
    () => '文件中的某个设备 id、DevEUI 或 IMEI 刚被他人登记，本次没有导入任何设备。请重新选择文件检查后再导入',
  ),
} as const

export type ImportProblemCode = keyof typeof IMPORT_PROBLEM_TEXT
export type ImportRefusalCode = keyof typeof IMPORT_REFUSAL_TEXT
export type ImportTextCode = ImportProblemCode | ImportRefusalCode
type Table = Record<ImportTextCode, Entry<string>>
const ALL: Table = { ...IMPORT_PROBLEM_TEXT, ...IMPORT_REFUSAL_TEXT }

export const IMPORT_PROBLEM_CODES = Object.keys(IMPORT_PROBLEM_TEXT) as [ImportProblemCode, ...ImportProblemCode[]]
export const IMPORT_REFUSAL_CODES = Object.keys(IMPORT_REFUSAL_TEXT) as [ImportRefusalCode, ...ImportRefusalCode[]]

/** The params of one code, as its text needs them. */
export type ImportParams<C extends ImportTextCode> = Parameters<AllText[C]['text']['en']>[0]
type AllText = typeof IMPORT_PROBLEM_TEXT & typeof IMPORT_REFUSAL_TEXT

/** A problem's code and params, checked against each other at compile time. */
export type Coded<C extends ImportTextCode = ImportTextCode> = { [K in C]: { code: K; params: ImportParams<K> } }[C]

/** The text of a code the server itself produced. */
export function importMessage(lang: TextLang, coded: Coded): string {
  return ALL[coded.code].text[lang](coded.params)
}

/**
 * The text of a code as it came over the wire (the console): undefined for a code this copy does
 * not know or params that lack one it needs, so the caller shows the server's `message` instead.
 */
export function importText(lang: TextLang, code: unknown, params: unknown): string | undefined {
  if (typeof code !== 'string' || !Object.hasOwn(ALL, code)) return undefined
  const { params: needed, text } = ALL[code as ImportTextCode]
  const given = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>
  const ok = needed.every((k) => typeof given[k] === 'string' || typeof given[k] === 'number')
  return ok ? text[lang](given as Record<string, ParamValue>) : undefined
}
