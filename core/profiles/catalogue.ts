// Device profiles shipped with housing-brain, one per vendor model met in the field, each built
// from the vendor's public payload documentation (named in `source`). The decoders are our own
// code written to those documents. They are seeded like the default rules: missing ones are
// added at start-up, ones an operator edited stay as edited. test/unit/profiles.test.ts runs each
// decoder on a payload laid out as its document describes.
import { PROFILE_NAMES } from '../../shared/profile-text.ts'
import type { DeviceProfileInput } from './schema.ts'

/**
 * Milesight EM320-TILT, a LoRaWAN tilt sensor fixed under a manhole cover. Uplink (any fPort) is a
 * list of [channel id, channel type, value]: 0x01 0x75 battery (1 byte, %); 0x03 0xD4 three
 * int16 little-endian angles X, Y, Z whose bit 0 is the threshold flag and bits 15..1 the angle in
 * hundredths of a degree. Lying flat the Z axis stands at 90°, so the cover's tilt from
 * horizontal is 90° − |Z|.
 */
const milesightEm320Tilt: DeviceProfileInput = {
  id: 'milesight-em320-tilt',
  name: PROFILE_NAMES['milesight-em320-tilt'].en,
  kind: 'manhole',
  manufacturer: 'Milesight',
  model: 'EM320-TILT',
  source: 'Milesight-IoT/SensorDecoders, EM_Series/EM300_Series/EM320-TILT/README.md (payload definition and example 01 75 64 03 D4 00 00 01 00 50 46)',
  reportInterval: '20m',
  ruleOverrides: { 'manhole-cover-displaced': { value: 20 } },
  decoder: {
    script: `function decodeUplink(input) {
  var b = input.bytes, data = {}, warnings = []
  function angle(i) {
    var raw = b[i] | (b[i + 1] << 8)
    if (raw > 0x7fff) raw -= 0x10000
    return (raw >> 1) / 100
  }
  for (var i = 0; i + 1 < b.length; ) {
    var channel = b[i], type = b[i + 1]
    i += 2
    if (channel === 0x01 && type === 0x75) {
      data.battery_pct = b[i]
      i += 1
    } else if (channel === 0x03 && type === 0xd4) {
      if (i + 6 > b.length) return { errors: ['angle channel cut short'] }
      data.cover_tilt_deg = Math.round((90 - Math.abs(angle(i + 4))) * 100) / 100
      i += 6
    } else {
      return { data: data, warnings: ['unknown channel ' + channel + '/' + type + '; rest of the payload skipped'] }
    }
  }
  return { data: data, warnings: warnings }
}`,
  },
}

/**
 * Dragino LDDS75, a LoRaWAN ultrasonic distance sensor mounted on the lid of a fire-water tank,
 * looking down. fPort 2, 8 bytes: battery (2, mV, low 14 bits), distance to the water (2, mm,
 * 280–7500 valid; 0 = no sensor), interrupt flag (1), DS18B20 temperature (2, signed, 0.1 °C;
 * optional probe), sensor flag (1). The water depth is the mounting height above the tank floor
 * (variable `mount_height_m`, set per installation) minus the distance.
 */
const draginoLdds75: DeviceProfileInput = {
  id: 'dragino-ldds75-tank',
  name: PROFILE_NAMES['dragino-ldds75-tank'].en,
  kind: 'fire_tank',
  manufacturer: 'Dragino',
  model: 'LDDS75',
  source: 'Dragino LDDS75 LoRaWAN Distance Detection Sensor User Manual, section "Uplink Payload" (wiki.dragino.com); TheThingsNetwork/lorawan-devices vendor/dragino/ldds75.js',
  reportInterval: '20m',
  variables: { mount_height_m: '4.0' },
  decoder: {
    script: `function decodeUplink(input) {
  var b = input.bytes
  if (input.fPort !== 2) return { errors: ['unknown fPort ' + input.fPort] }
  if (b.length < 4) return { errors: ['payload shorter than 4 bytes'] }
  var distanceMm = (b[2] << 8) | b[3]
  if (distanceMm === 0) return { errors: ['no ultrasonic sensor connected'] }
  if (distanceMm < 280) return { errors: ['invalid reading: ' + distanceMm + ' mm is inside the blind zone'] }
  var height = Number(input.variables.mount_height_m)
  if (!(height > 0)) return { errors: ['variable mount_height_m is not set'] }
  var depth = Math.round((height - distanceMm / 1000) * 1000) / 1000
  return { data: { water_level_m: Math.max(0, depth) }, warnings: depth < 0 ? ['distance beyond the mounting height'] : [] }
}`,
  },
}

/**
 * An elevator monitor (DTU on the controller) posting JSON. The data items are those of
 * GB/T 24476-2017, clause 9 ("real-time running status"): car running, speed, load, door,
 * passenger trapped. The field names below are what the DTU is configured to send; change the
 * paths to match the unit's manual. A declarative profile: no script.
 */
const elevatorDtuJson: DeviceProfileInput = {
  id: 'elevator-dtu-json',
  name: PROFILE_NAMES['elevator-dtu-json'].en,
  kind: 'elevator',
  source: 'GB/T 24476-2017 Specification for Internet of Things for lifts, escalators and moving walks, clause 9 (real-time running status)',
  reportInterval: '1m',
  decoder: {
    fields: [
      { metric: 'running', path: 'status.running', map: { '0': false, '1': true, stopped: false, running: true } },
      { metric: 'speed_mps', path: 'status.speed', optional: true },
      { metric: 'car_load_kg', path: 'status.load', optional: true },
      { metric: 'trapped', path: 'status.trapped', map: { '0': false, '1': true, false: false, true: true } },
      { metric: 'vibration_mg', path: 'status.vibration_g', convert: 'g_to_mg', optional: true },
    ],
    time: { path: 'timestamp', format: 's' },
  },
}

export const SHIPPED_PROFILES: readonly DeviceProfileInput[] = [milesightEm320Tilt, draginoLdds75, elevatorDtuJson]
