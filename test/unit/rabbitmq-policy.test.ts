import { describe, expect, it } from 'vitest'
import { subscriptionClientId } from '../../broker/rabbitmq.ts'
import { routingKeyOf, topicOfRoutingKey } from '../../core/contract.ts'

describe('RabbitMQ routing keys and queue names', () => {
  it('turns a routing key back into the MQTT topic: `.` and `/` swapped, `*` as `+`', () => {
    expect(topicOfRoutingKey('hb.v1.devices.mh-1.telemetry')).toBe('hb/v1/devices/mh-1/telemetry')
    // A `.` in a device id arrives as `/` and goes back to `.`.
    expect(topicOfRoutingKey('hb.v1.devices.a/b.telemetry')).toBe('hb/v1/devices/a.b/telemetry')
    expect(topicOfRoutingKey('hb.v1.devices.*.#')).toBe('hb/v1/devices/+/#')
    expect(routingKeyOf('hb/v1/devices/+/telemetry')).toBe('hb.v1.devices.*.telemetry')
    expect(topicOfRoutingKey(routingKeyOf('hb/v1/devices/a.b:c/status'))).toBe('hb/v1/devices/a.b:c/status')
  })

  it('reads the client id out of an MQTT subscription queue name only', () => {
    expect(subscriptionClientId('mqtt-subscription-mh-1qos1')).toBe('mh-1')
    expect(subscriptionClientId('mqtt-subscription-mh-1/aqos0')).toBe('mh-1/a')
    expect(subscriptionClientId('hb.telemetry')).toBeUndefined()
  })
})
