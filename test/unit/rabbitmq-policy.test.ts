import { describe, expect, it } from 'vitest'
import { mqttTopicOf, subscriptionClientId } from '../../broker/rabbitmq.ts'

describe('RabbitMQ routing keys and queue names', () => {
  it('turns a routing key back into the MQTT topic: `.` and `/` swapped, `*` as `+`', () => {
    expect(mqttTopicOf('hb.v1.devices.mh-1.telemetry')).toBe('hb/v1/devices/mh-1/telemetry')
    // A `.` in a device id arrives as `/` and goes back to `.`.
    expect(mqttTopicOf('hb.v1.devices.a/b.telemetry')).toBe('hb/v1/devices/a.b/telemetry')
    expect(mqttTopicOf('hb.v1.devices.*.#')).toBe('hb/v1/devices/+/#')
  })

  it('reads the client id out of an MQTT subscription queue name only', () => {
    expect(subscriptionClientId('mqtt-subscription-mh-1qos1')).toBe('mh-1')
    expect(subscriptionClientId('mqtt-subscription-mh-1/aqos0')).toBe('mh-1/a')
    expect(subscriptionClientId('hb.telemetry')).toBeUndefined()
  })
})
