import { describe, expect, it } from 'vitest'
import { decideTopic, subscriptionClientId } from '../../intake/rabbitmq-acl.ts'
import { routingKeyOf, topicOfRoutingKey, topics } from '../../core/contract.ts'

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

describe('RabbitMQ topic policy', () => {
  const scope = { vhost: '/', exchange: 'amq.topic' }
  const gateway = { type: 'device' as const, deviceId: 'gw-1', kind: 'gateway' as const }
  const isChild = () => Promise.resolve(true)
  const ask = (permission: string, topic: string) => decideTopic(gateway, scope, { vhost: '/', name: 'amq.topic', permission, routingKey: routingKeyOf(topic), clientId: 'gw-1' }, isChild)

  it('lets a gateway publish on its own topic and refuses topics outside the contract', async () => {
    expect(await ask('write', topics.gatewayTelemetry('gw-1'))).toEqual({ ok: true })
    expect(await ask('write', 'hb/v1/readings/3')).toMatchObject({ ok: false })
    expect(await ask('read', 'hb/v1/devices/+/telemetry')).toMatchObject({ ok: false })
  })
})
