// A device's MQTT login as firmware does it: client id = device id, no automatic reconnect, and a
// login the broker refuses with "server unavailable" (its bound on concurrent password checks,
// issue 7 item 3) tried again a few times with a growing pause. Any other refusal is final.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'

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
