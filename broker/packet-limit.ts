// A bound on the size of one MQTT packet. Aedes has none: a client could announce a 256 MB
// PUBLISH (the protocol's ceiling, MQTT 3.1.1 §2.2.3) and the parser would buffer it. This reads
// the fixed header of every packet as Aedes consumes the stream and cuts the connection as soon as
// a remaining length over the limit is announced, before the body arrives.
import type { Duplex } from 'node:stream'

const enum State {
  Type,
  Length,
  Body,
}

/**
 * Watches `stream` (the socket Aedes reads) and destroys it when a packet larger than `maxBytes`
 * is announced or the length field is malformed. A 'data' listener next to Aedes' 'readable'
 * listener sees exactly the chunks Aedes reads and does not change the flow (Node docs,
 * stream "Choose one API style": 'readable' takes precedence).
 */
export function limitPacketSize(stream: Duplex, maxBytes: number, onViolation: (announced: number) => void): void {
  let state = State.Type
  let length = 0
  let multiplier = 1
  let lengthBytes = 0
  let remaining = 0

  const violate = (announced: number) => {
    stream.off('data', onData)
    onViolation(announced)
    stream.destroy()
  }

  function onData(chunk: Buffer): void {
    let i = 0
    while (i < chunk.length) {
      switch (state) {
        case State.Type:
          i++
          state = State.Length
          length = 0
          multiplier = 1
          lengthBytes = 0
          break
        case State.Length: {
          const byte = chunk[i++] ?? 0
          length += (byte & 0x7f) * multiplier
          multiplier *= 128
          lengthBytes++
          if (byte & 0x80) {
            // [MQTT-2.2.3] the remaining length takes at most four bytes.
            if (lengthBytes === 4) return violate(-1)
          } else if (length > maxBytes) {
            return violate(length)
          } else {
            remaining = length
            state = remaining === 0 ? State.Type : State.Body
          }
          break
        }
        case State.Body: {
          const take = Math.min(remaining, chunk.length - i)
          i += take
          remaining -= take
          if (remaining === 0) state = State.Type
          break
        }
      }
    }
  }

  stream.on('data', onData)
}
