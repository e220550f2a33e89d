// A device's MQTT login as firmware does it: client id = device id, no automatic reconnect, and a
// login the broker refuses with "server unavailable" (its bound on concurrent password checks,
// issue 7 item 3) tried again a few times with a growing pause. Any other refusal is final.
// And one attempt from a chosen address, for the tests of the login throttle.
import net from 'node:net'
import mqtt, { MqttClient, type IClientOptions } from 'mqtt'

export async function loginDevice(url: string, deviceId: string, secret: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const opts: IClientOptions = { clientId: deviceId, username: deviceId, password: secret, reconnectPeriod: 0, ...extra }
  for (let attempt = 1; ; attempt++) {
    try {
      return await mqtt.connectAsync(url, opts)
    } catch (err) {
      if (attempt >= 8 || !/unavailable/i.test(String(err))) throw err
      await new Promise((r) => setTimeout(r, 250 * attempt))
    }
  }
}

// CONNACK return codes, MQTT 3.1.1 §3.2.2.3.
export const ACCEPTED = 0
export const IDENTIFIER_REJECTED = 2
export const SERVER_UNAVAILABLE = 3
export const BAD_USERNAME_OR_PASSWORD = 4

export interface Login {
  code: number
  client?: MqttClient
}

/**
 * One login attempt from `from` (a loopback address, so tests can play several hosts) with no
 * retry: the CONNACK code, and the client when accepted.
 */
export function loginFrom(url: string, opts: IClientOptions, from = '127.0.0.1'): Promise<Login> {
  const port = Number(new URL(url).port)
  return new Promise((resolve) => {
    let settled = false
    const settle = (result: Login) => {
      if (settled) return
      settled = true
      resolve(result)
    }
    const client = new MqttClient(() => net.createConnection({ host: '127.0.0.1', port, localAddress: from }), { reconnectPeriod: 0, ...opts })
    client.once('connect', () => settle({ code: ACCEPTED, client }))
    client.once('error', (err) => {
      client.end(true)
      settle({ code: (err as { code?: number }).code ?? -1 })
    })
    client.once('close', () => settle({ code: -1 }))
  })
}
