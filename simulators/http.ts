// A simulated device that reaches housing-brain over HTTP instead of MQTT, in one of three ways:
//
// - `http`:   the HTTP device API, as a DTU does: POST /ingest/v1/devices/{id}/telemetry with
//             Basic id:secret and the telemetry contract as the body.
// - `onenet`: as China Mobile OneNET pushes a product's data (plaintext mode): POST
//             { msg, msg_signature, nonce } where msg holds one type-1 data point per metric
//             { at, type: 1, ds_id, value, dev_id } and msg_signature = Base64(MD5(token + nonce +
//             msg)); a type-2 message { status: 1 } when the device comes online.
// - `ctwing`: as China Telecom CTWing pushes a subscription: one `dataReport` per entry
//             { messageType, deviceId, timestamp, payload: { serviceData } } to a URL carrying
//             ?token=, and a `deviceOnlineOfflineReport` (eventType 1) when it comes online.
//
// The platform's device id is the housing-brain device id (the receivers fall back to it when a
// message carries no IMEI). Requests go through Node's fetch (undici, keep-alive), one at a time
// per device, as a platform's worker or a DTU would; `publish` answers false while one is
// outstanding, so the fleet skips that sample instead of queueing it.
import { randomBytes } from 'node:crypto'
import { onenetSignature } from '../core/onenet-signature.ts'
import type { FleetCounters } from './client.ts'
import type { OutgoingMessage } from './device.ts'

export const HTTP_VIAS = ['http', 'onenet', 'ctwing'] as const
export type HttpVia = (typeof HTTP_VIAS)[number]

export function isHttpVia(v: string): v is HttpVia {
  return (HTTP_VIAS as readonly string[]).includes(v)
}

/** Where and how to push: the API's base URL and the platform tokens the receivers expect. */
export interface HttpTarget {
  via: HttpVia
  /** http://host:port of the API. */
  baseUrl: string
  /** ONENET_PUSH_TOKEN of the API (via onenet). */
  onenetToken?: string | undefined
  /** CTWING_PUSH_TOKEN of the API (via ctwing). */
  ctwingToken?: string | undefined
}

interface Entry {
  ts?: number
  values: Record<string, number | boolean>
}

/** One HTTP request of a device's push, ready for fetch. */
export interface PushRequest {
  url: string
  body: string
  headers: Record<string, string>
}

/** The device API's request for one telemetry body (the contract, as the device would send it). */
export function deviceApiRequest(target: HttpTarget, id: string, secret: string, body: string): PushRequest {
  const authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
  return { url: `${target.baseUrl}/ingest/v1/devices/${encodeURIComponent(id)}/telemetry`, body, headers: { 'content-type': 'application/json', authorization } }
}

/** The requests that carry `entries` of device `id` the way `target.via` does (one per entry for CTWing). */
export function pushRequests(target: HttpTarget, id: string, secret: string, entries: readonly Entry[]): PushRequest[] {
  if (target.via === 'http') return [deviceApiRequest(target, id, secret, JSON.stringify(entries.length === 1 ? entries[0] : entries))]
  if (target.via === 'onenet') {
    const now = Date.now()
    const msgs = entries.flatMap((e) => Object.entries(e.values).map(([ds, value]) => ({ at: e.ts ?? now, type: 1, ds_id: ds, value: typeof value === 'boolean' ? Number(value) : value, dev_id: id })))
    return msgs.length === 0 ? [] : [onenetPush(target, msgs.length === 1 ? msgs[0] : msgs)]
  }
  return entries.map((e) => ctwingPush(target, { messageType: 'dataReport', deviceId: id, timestamp: e.ts ?? Date.now(), protocol: 'lwm2m', topic: 'v1/up/ad', payload: { serviceId: 'telemetry', serviceData: e.values } }))
}

/** The push announcing the device online (OneNET type 2, CTWing eventType 1); none for the device API. */
export function onlineRequest(target: HttpTarget, id: string): PushRequest | undefined {
  if (target.via === 'onenet') return onenetPush(target, { at: Date.now(), type: 2, dev_id: id, status: 1 })
  if (target.via === 'ctwing') return ctwingPush(target, { messageType: 'deviceOnlineOfflineReport', deviceId: id, timestamp: Date.now(), eventType: 1 })
  return undefined
}

/** A OneNET push of `msg` (one message or an array of them) as the platform signs it, with a fresh nonce. */
export function onenetPush(target: HttpTarget, msg: unknown): PushRequest {
  const text = JSON.stringify(msg)
  const nonce = randomBytes(6).toString('base64url')
  const signature = onenetSignature(target.onenetToken ?? '', nonce, text)
  return { url: `${target.baseUrl}/ingest/v1/onenet`, body: `{"msg":${text},"msg_signature":"${signature}","nonce":"${nonce}"}`, headers: { 'content-type': 'application/json' } }
}

function ctwingPush(target: HttpTarget, message: object): PushRequest {
  return { url: `${target.baseUrl}/ingest/v1/ctwing?token=${encodeURIComponent(target.ctwingToken ?? '')}`, body: JSON.stringify(message), headers: { 'content-type': 'application/json' } }
}

/** Sends one request; resolves with the status (0 when the request itself failed). */
export async function sendPush(req: PushRequest, timeoutMs = 30_000): Promise<number> {
  try {
    const res = await fetch(req.url, { method: 'POST', body: req.body, headers: req.headers, signal: AbortSignal.timeout(timeoutMs) })
    await res.arrayBuffer()
    return res.status
  } catch {
    return 0
  }
}

/**
 * The fleet's connection for a device that pushes over HTTP: the same surface as
 * DeviceConnection (simulators/client.ts), so the fleet drives either.
 */
export class HttpConnection {
  private busy = false
  private closing = false
  private started = false
  private idle: (() => void) | undefined

  constructor(private readonly opts: { target: HttpTarget; id: string; secret: string; counters: FleetCounters }) {}

  get connected(): boolean {
    return this.started && !this.closing
  }

  get ready(): boolean {
    return this.connected && !this.busy
  }

  connect(onConnect: () => void = () => undefined): Promise<void> {
    this.started = true
    this.opts.counters.connects++
    const online = onlineRequest(this.opts.target, this.opts.id)
    if (online) {
      void sendPush(online).then((status) => {
        if (status === 200) this.opts.counters.statusPublished++
        else this.opts.counters.errors++
      })
    }
    onConnect()
    // No login of its own: each push carries the credentials.
    return Promise.resolve()
  }

  skip(): void {
    this.opts.counters.skipped++
  }

  publish(msg: OutgoingMessage): boolean {
    const c = this.opts.counters
    const requests = this.requestsFor(msg.payload)
    if (this.closing || this.busy || requests.length === 0) {
      c.skipped++
      return false
    }
    c.published++
    c.readings += msg.readings
    this.busy = true
    void (async () => {
      let ok = true
      for (const r of requests) ok = (await sendPush(r)) === 200 && ok
      if (ok) c.acked++
      else c.errors++
      this.busy = false
      this.idle?.()
    })()
    return true
  }

  /**
   * The device API gets the payload as it is (a malformed one is dead-lettered there); a platform
   * forwards only what it could parse, so a malformed payload is not sent through one.
   */
  private requestsFor(payload: string): PushRequest[] {
    const { target, id, secret } = this.opts
    if (target.via === 'http') return [deviceApiRequest(target, id, secret, payload)]
    try {
      const parsed = JSON.parse(payload) as Entry | Entry[]
      return pushRequests(target, id, secret, Array.isArray(parsed) ? parsed : [parsed])
    } catch {
      return []
    }
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true
    if (!this.busy) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([new Promise<void>((resolve) => (this.idle = resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))])
    clearTimeout(timer)
  }
}
