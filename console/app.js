// housing-brain console: live alerts for operators and crews, their detail and actions, and the
// devices with their newest values. Plain browser JavaScript, no build step; it talks to the same
// API as everyone else, with the user's bearer token. Every value from the API is written with
// textContent, never as HTML.

const TOKEN_KEY = 'hb-token'
const $ = (sel) => document.querySelector(sel)

const state = {
  token: localStorage.getItem(TOKEN_KEY),
  alerts: new Map(),
  selected: null,
  checked: new Set(),
  lastEventId: undefined,
  streamAbort: undefined,
}

// ---- API ---------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.code = body?.code
  }
}

async function api(path, options = {}) {
  const res = await fetch(path, {
    ...options,
    headers: { authorization: `Bearer ${state.token}`, ...(options.body ? { 'content-type': 'application/json' } : {}) },
  })
  const body = res.status === 204 ? null : await res.json().catch(() => null)
  if (res.status === 401) signOut('Your token is unknown, revoked or expired.')
  if (!res.ok) throw new ApiError(res.status, body)
  return body
}

// ---- Formatting --------------------------------------------------------------------------------

function ago(iso) {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000)
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.round(s / 60)}m ago`
  if (s < 86400) return `${Math.round(s / 3600)}h ago`
  return new Date(iso).toLocaleString()
}

function until(iso) {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000)
  if (s <= 0) return { text: `overdue ${Math.round(-s / 60)}m`, overdue: true }
  return { text: s < 3600 ? `in ${Math.ceil(s / 60)}m` : `in ${Math.round(s / 3600)}h`, overdue: false }
}

function cell(text, className) {
  const td = document.createElement('td')
  td.textContent = text ?? ''
  if (className) td.className = className
  return td
}

// ---- Alerts ------------------------------------------------------------------------------------

function matchesFilters(a) {
  const states = $('#filter-state').value
  const severity = $('#filter-severity').value
  return (!states || states.split(',').includes(a.state)) && (!severity || a.severity === severity)
}

function renderAlerts(flashId) {
  const tbody = $('#alerts tbody')
  tbody.replaceChildren()
  const rows = [...state.alerts.values()].filter(matchesFilters).sort((a, b) => b.id - a.id)
  for (const a of rows) {
    const tr = document.createElement('tr')
    tr.dataset.id = String(a.id)
    tr.className = [a.state, a.id === state.selected ? 'selected' : '', a.id === flashId ? 'flash' : ''].join(' ')
    const check = document.createElement('input')
    check.type = 'checkbox'
    check.checked = state.checked.has(a.id)
    check.disabled = a.state !== 'open'
    check.setAttribute('aria-label', `select alert ${a.id}`)
    check.addEventListener('click', (e) => {
      e.stopPropagation()
      if (check.checked) state.checked.add(a.id)
      else state.checked.delete(a.id)
      $('#ack-selected').disabled = state.checked.size === 0
    })
    const tdCheck = document.createElement('td')
    tdCheck.append(check)
    const deadline = a.state === 'open' ? until(a.ackDeadline) : { text: '—', overdue: false }
    tr.append(
      tdCheck,
      cell(a.severity, `sev ${a.severity}`),
      cell(a.title + (a.flapping ? ' (flapping)' : '') + (a.silenced ? ' (silenced)' : '')),
      cell(a.deviceId ?? '—'),
      cell(a.companyId ?? '—'),
      cell(a.state.replace('_', ' ') + (a.condition === 'cleared' ? ' · cleared' : '')),
      cell(ago(a.raisedAt)),
      cell(deadline.text, deadline.overdue ? 'overdue' : ''),
      cell(String(a.count)),
    )
    tr.addEventListener('click', () => void selectAlert(a.id))
    tbody.append(tr)
  }
}

async function loadAlerts() {
  const params = new URLSearchParams({ limit: '200' })
  const states = $('#filter-state').value
  if (states) params.set('state', states)
  const body = await api(`/api/v1/alerts?${params}`)
  for (const a of body.items) state.alerts.set(a.id, a)
  renderAlerts()
}

async function selectAlert(id) {
  state.selected = id
  renderAlerts()
  const a = await api(`/api/v1/alerts/${id}`)
  state.alerts.set(a.id, a)
  $('#detail').hidden = false
  $('#detail-title').textContent = `#${a.id} ${a.title}`
  const fields = $('#detail-fields')
  fields.replaceChildren()
  const add = (k, v) => {
    const dt = document.createElement('dt')
    dt.textContent = k
    const dd = document.createElement('dd')
    dd.textContent = v ?? '—'
    fields.append(dt, dd)
  }
  add('Severity', a.severity)
  add('State', `${a.state.replace('_', ' ')} (condition ${a.condition})`)
  add('Reason', a.reason)
  add('Device', a.deviceId)
  add('Community', a.communityId)
  add('Company', a.companyId)
  add('Last value', a.lastValue === null ? null : String(a.lastValue))
  if (a.predictedAt) add('Predicted', new Date(a.predictedAt).toLocaleString())
  add('Raised', new Date(a.raisedAt).toLocaleString())
  add('Acknowledge by', new Date(a.ackDeadline).toLocaleString())
  add('Resolve by', new Date(a.resolveDeadline).toLocaleString())
  add('Escalation level', String(a.escalationLevel))
  const history = $('#history')
  history.replaceChildren()
  for (const e of a.history) {
    const li = document.createElement('li')
    li.textContent = `${new Date(e.at).toLocaleTimeString()} ${e.type} by ${e.actor}${e.note ? ` — ${e.note}` : ''}`
    history.append(li)
  }
  for (const b of document.querySelectorAll('#detail [data-action]')) {
    const action = b.dataset.action
    b.disabled =
      (action === 'ack' && a.state !== 'open') ||
      (action === 'start' && !['open', 'acknowledged'].includes(a.state)) ||
      (action === 'resolve' && a.state === 'resolved')
  }
}

async function act(action) {
  const id = state.selected
  if (id === null) return
  const note = $('#note').value.trim()
  $('#action-error').textContent = ''
  try {
    const a = await api(`/api/v1/alerts/${id}/${action}`, { method: 'POST', body: JSON.stringify(note ? { note } : {}) })
    state.alerts.set(a.id, a)
    $('#note').value = ''
    await selectAlert(id)
  } catch (err) {
    $('#action-error').textContent = err.message
  }
}

async function ackSelected() {
  const ids = [...state.checked]
  const result = await api('/api/v1/alerts/ack', { method: 'POST', body: JSON.stringify({ ids }) })
  state.checked.clear()
  $('#ack-selected').disabled = true
  if (result.skipped.length > 0) alert(result.skipped.map((s) => `#${s.id}: ${s.message}`).join('\n'))
  await loadAlerts()
}

// ---- Live stream (SSE over fetch, so the token can travel in a header) ---------------------------

async function stream() {
  for (;;) {
    state.streamAbort = new AbortController()
    try {
      const headers = { authorization: `Bearer ${state.token}`, accept: 'text/event-stream' }
      if (state.lastEventId !== undefined) headers['last-event-id'] = String(state.lastEventId)
      const res = await fetch('/api/v1/alerts/stream', { headers, signal: state.streamAbort.signal })
      if (res.status === 401) return signOut('Your token is unknown, revoked or expired.')
      if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`)
      setLive(true)
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        const frames = buffer.split('\n\n')
        buffer = frames.pop() ?? ''
        for (const frame of frames) onFrame(frame)
      }
    } catch (err) {
      if (state.streamAbort.signal.aborted) return
      console.warn(err)
    }
    setLive(false)
    await new Promise((r) => setTimeout(r, 2000))
  }
}

function onFrame(frame) {
  const id = /^id: (\d+)$/m.exec(frame)?.[1]
  const data = /^data: (.*)$/m.exec(frame)?.[1]
  if (!id || !data) return
  state.lastEventId = Number(id)
  const event = JSON.parse(data)
  state.alerts.set(event.alert.id, event.alert)
  renderAlerts(event.alert.id)
  if (state.selected === event.alert.id) void selectAlert(event.alert.id)
}

function setLive(on) {
  const el = $('#live')
  el.textContent = on ? 'live' : 'reconnecting…'
  el.className = `live ${on ? 'on' : 'off'}`
}

// ---- Devices -----------------------------------------------------------------------------------

async function loadDevices() {
  const tbody = $('#devices tbody')
  tbody.replaceChildren()
  let cursor = ''
  do {
    const body = await api(`/api/v1/devices?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    for (const d of body.items) {
      const tr = document.createElement('tr')
      tr.append(cell(d.name ? `${d.id} · ${d.name}` : d.id), cell(d.kind), cell(d.communityId), cell(d.gatewayId ?? '—'))
      tr.addEventListener('click', () => void showDevice(d.id))
      tbody.append(tr)
    }
    cursor = body.nextCursor ?? ''
  } while (cursor)
}

async function showDevice(id) {
  const [device, latest] = await Promise.all([api(`/api/v1/devices/${encodeURIComponent(id)}`), api(`/api/v1/devices/${encodeURIComponent(id)}/latest`)])
  $('#device-detail').hidden = false
  $('#device-title').textContent = `${device.id} (${device.kind}) — ${device.status ?? 'no status'}`
  const tbody = $('#latest tbody')
  tbody.replaceChildren()
  for (const v of latest.values) {
    const tr = document.createElement('tr')
    tr.append(cell(v.metric), cell(String(v.value)), cell(ago(v.ts)))
    tbody.append(tr)
  }
}

// ---- Shell -------------------------------------------------------------------------------------

function show(view) {
  for (const b of document.querySelectorAll('nav button')) b.classList.toggle('active', b.dataset.view === view)
  $('#alerts-view').hidden = view !== 'alerts'
  $('#devices-view').hidden = view !== 'devices'
  if (view === 'devices') void loadDevices()
}

function signOut(message) {
  state.token = null
  localStorage.removeItem(TOKEN_KEY)
  state.streamAbort?.abort()
  $('#login').hidden = false
  $('#alerts-view').hidden = true
  $('#devices-view').hidden = true
  $('#logout').hidden = true
  $('#login-error').textContent = message ?? ''
}

async function signIn() {
  $('#login').hidden = true
  $('#logout').hidden = false
  show('alerts')
  await loadAlerts()
  void stream()
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault()
  state.token = $('#token').value.trim()
  localStorage.setItem(TOKEN_KEY, state.token)
  void signIn().catch((err) => signOut(err.message))
})
$('#logout').addEventListener('click', () => signOut())
for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => show(b.dataset.view))
for (const b of document.querySelectorAll('#detail [data-action]')) b.addEventListener('click', () => void act(b.dataset.action))
$('#ack-selected').addEventListener('click', () => void ackSelected())
$('#filter-state').addEventListener('change', () => void loadAlerts())
$('#filter-severity').addEventListener('change', () => renderAlerts())
$('#select-all').addEventListener('change', (e) => {
  for (const a of state.alerts.values()) {
    if (a.state !== 'open' || !matchesFilters(a)) continue
    if (e.target.checked) state.checked.add(a.id)
    else state.checked.delete(a.id)
  }
  $('#ack-selected').disabled = state.checked.size === 0
  renderAlerts()
})
// Deadlines count down without new data.
setInterval(() => renderAlerts(), 30_000)

if (state.token) void signIn().catch((err) => signOut(err.message))
else signOut()
