// Import devices from a CSV file: choosing the file checks it at once (a dry run, nothing written)
// and lists every problem by row and column, or says how many devices are ready; then one press
// imports them all and offers the new secrets as a CSV download, once. The file goes to the API as
// it is, so the server judges its encoding (an Excel "CSV" in GBK is refused with what to do).
// Problems and refusals come with a code and params, worded here in the operator's language
// (shared/import-text.ts); the server's English is kept for a code this console does not know.
import { useEffect, useRef, useState } from 'preact/hooks'
import { Confirm, Panel } from '../../components/Form.tsx'
import { IMPORT_COLUMNS, type ImportColumn } from '../../../../shared/import-text.ts'
import { CsvFileField, Problems, refusalOf, worded, type Problem, type Said } from '../../components/ImportProblems.tsx'
import { num, t } from '../../i18n/index.ts'
import { sendFile } from '../../lib/api.ts'
import { refreshRegistry } from '../../lib/refresh.ts'
import { registry } from '../../lib/registry.ts'
import { useStore } from '../../lib/store.ts'

const URL_IMPORT = '/api/v1/devices/import'
const COLUMNS = IMPORT_COLUMNS.join(', ')
/** As the API bounds a file (api/devices/import.ts). */
const MAX_ROWS = 1000

type Outcome = { kind: 'ready'; devices: number; gateways: number } | { kind: 'problems'; list: Problem[]; total: number } | ({ kind: 'error' } & Said)

/** A file to start from: a gateway, a device behind it, an elevator with its place; the BOM so Excel reads it as UTF-8. */
function template(community: string): string {
  const rows: Partial<Record<ImportColumn, string>>[] = [
    { id: 'gw-north-01', name: 'North gate LoRa gateway', kind: 'gateway', community, latitude: '31.1520', longitude: '121.4040' },
    { id: 'mh-north-001', name: 'Manhole cover 1', kind: 'manhole', profile: 'milesight-em320-tilt', community, gateway: 'gw-north-01', latitude: '31.1521', longitude: '121.4042', dev_eui: 'A84041000181C5E1', location: 'North gate fire lane' },
    { id: 'el-north-001', name: 'Elevator building 1', kind: 'elevator', community, imei: '861234567890123', building: '1', unit: '2', registration_code: '31103101002012060001', rescue_code: 'SH-0451' },
  ]
  const lines = [IMPORT_COLUMNS.join(','), ...rows.map((r) => IMPORT_COLUMNS.map((c) => r[c] ?? '').join(','))]
  return `\uFEFF${lines.join('\r\n')}\r\n`
}

/**
 * The secrets file, offered once: the link dies (its object URL is revoked) when dismissed, which
 * asks again while the file has not been downloaded.
 */
function SecretsOnce({ url, name, count, onDone }: { url: string; name: string; count: number; onDone: () => void }) {
  const box = useRef<HTMLDivElement>(null)
  const [downloaded, setDownloaded] = useState(false)
  useEffect(() => box.current?.scrollIntoView({ block: 'nearest' }), [url])
  return (
    <div class="secret card" role="alert" id="import-secrets" ref={box}>
      <p>{t('import.done', { n: count })}</p>
      <p class="warn">
        <strong>{t('secret.once')}</strong> {t('import.secretsWarning')}
      </p>
      <div class="bar">
        <a class="button primary" id="import-secrets-download" href={url} download={name} onClick={() => setDownloaded(true)}>
          {t('import.secrets')}
        </a>
        {downloaded ? (
          <button type="button" id="import-secrets-done" onClick={onDone}>
            {t('secret.done')}
          </button>
        ) : (
          <Confirm label={t('secret.done')} confirm={t('import.discard')} onConfirm={onDone} />
        )}
      </div>
    </div>
  )
}

export function DeviceImport({ onClose }: { onClose: () => void }) {
  const reg = useStore(registry)
  const [file, setFile] = useState<File | null>(null)
  const [busy, setBusy] = useState(false)
  const [outcome, setOutcome] = useState<Outcome | null>(null)
  const [secrets, setSecrets] = useState<{ url: string; name: string; count: number } | null>(null)
  const community = [...reg.communities.keys()][0] ?? 'cm-example'
  const templateHref = `data:text/csv;charset=utf-8,${encodeURIComponent(template(community))}`

  const request = async (chosen: File, dryRun: boolean) => {
    setBusy(true)
    try {
      return await sendFile(`${URL_IMPORT}${dryRun ? '?dryRun=true' : ''}`, chosen, 'text/csv')
    } catch (err) {
      setOutcome(refusalOf(err))
      return undefined
    } finally {
      setBusy(false)
    }
  }

  const check = async (chosen: File) => {
    setFile(chosen)
    setOutcome(null)
    const res = await request(chosen, true)
    const body = res?.json as { devices: number; gateways: number } | undefined
    if (body) setOutcome({ kind: 'ready', devices: body.devices, gateways: body.gateways })
  }

  const run = async () => {
    if (!file || outcome?.kind !== 'ready') return
    const res = await request(file, false)
    if (!res) return
    // The bytes as the API sent them: its byte-order mark keeps Excel on a Chinese Windows in UTF-8.
    const url = URL.createObjectURL(res.file)
    setSecrets({ url, name: res.name ?? 'device-secrets.csv', count: outcome.devices })
    setOutcome(null)
    setFile(null)
    await refreshRegistry()
  }

  const dismiss = () => {
    if (secrets) URL.revokeObjectURL(secrets.url)
    setSecrets(null)
    onClose()
  }

  return (
    <Panel title={t('import.title')} id="device-import">
      <p class="muted small">{t('import.note', { columns: COLUMNS, rows: num(MAX_ROWS, 0) })}</p>
      {secrets ? (
        <SecretsOnce {...secrets} onDone={dismiss} />
      ) : (
        <>
          <div class="bar">
            <CsvFileField id="import-file" busy={busy} onChosen={(f) => void check(f)} />
            <a id="import-template" href={templateHref} download="devices-template.csv">
              {t('import.template')}
            </a>
          </div>
          <div aria-live="polite">
            {busy && <p class="muted">{t('import.checking')}</p>}
            {file && !busy && <p class="muted small">{t('import.checked', { name: file.name })}</p>}
            {outcome?.kind === 'ready' && (
              <p class="ok" id="import-ready">
                {t('import.ready', { n: outcome.devices, gateways: outcome.gateways })}
              </p>
            )}
          </div>
          {outcome?.kind === 'problems' && <Problems list={outcome.list} total={outcome.total} />}
          {outcome?.kind === 'error' && (
            <p class="error" role="alert" id="import-error">
              {worded(outcome)}
            </p>
          )}
          <div class="buttons">
            <button type="button" class="primary" id="import-run" disabled={busy || outcome?.kind !== 'ready'} onClick={() => void run()}>
              {outcome?.kind === 'ready' ? t('import.run', { n: outcome.devices }) : t('import.runNone')}
            </button>
            <button type="button" onClick={onClose}>
              {t('form.cancel')}
            </button>
          </div>
        </>
      )}
    </Panel>
  )
}
