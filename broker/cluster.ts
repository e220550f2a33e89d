// Several Aedes processes sharing Redis (issue 11): the Last Wills, as a device moves between them.
//
// Aedes keeps each connection's Will in the shared persistence under (broker id, client id), and
// every broker announces itself on `$SYS/{id}/heartbeat`. When a broker dies (kill -9, a lost
// machine), nobody sends its devices' Wills at once: the surviving brokers publish the Wills of a
// broker silent for three heartbeat intervals, checking every four (aedes.js `_clearWills`), so
// with MQTT_CLUSTER_HEARTBEAT=5s a dead broker's devices read `offline` 15–35 s after it died
// (the Aedes default interval of 60 s would make it 3–7 minutes). Three things go wrong with
// that as Aedes does it alone, and are handled here:
//
// 1. A dead broker's Will is published by a survivor with no client (`client === null`), which
//    the broker took for "published by the broker itself": nothing was checked and the ingest
//    never saw it, so the device's stored status stayed `online` forever. Now such a Will is
//    accepted only for what a Will is for here — the device's own status topic, under a client
//    id of that device — and handed to the ingest like any other status message.
// 2. A device whose broker died reconnects to a survivor long before the Will is due; the old
//    Will (stored under the dead broker's id) would then announce `offline` minutes after the
//    device came back. A client that connects deletes its Wills left under every other broker
//    id, and a foreign Will for a client connected here is dropped.
// 3. A client id that connects on broker B while still connected on broker A is taken over:
//    A closes its old connection (`$SYS/{B}/new/clients`) and, as for any connection closed
//    without DISCONNECT, publishes its Will — possibly after the device already said `online`
//    on B. The Will of a connection taken over from another broker is not published (the
//    device is not offline; it moved).
import type { Aedes, Client } from 'aedes'
import { parseTopic } from '../core/contract.ts'
import type { Logger } from '../core/log.ts'
import { decideClientId } from '../intake/acl.ts'

/** The part of aedes-persistence-redis used here: a Will is keyed by (broker id, client id). */
export interface WillStore {
  delWill(client: { id: string; brokerId: string }): Promise<unknown>
}

/** The shared message bus (mqemitter-redis), which also carries Aedes' `$SYS` announcements. */
export interface ClusterBus {
  on(topic: string, handler: (packet: { topic: string }, done: () => void) => void): unknown
}

/** A Will as the persistence hands it back: the packet with the ids it was stored under. */
interface StoredWill {
  topic: string
  clientId?: string
  brokerId?: string
}

export type WillDecision =
  /** Not a Will of another broker, nor of a connection taken over elsewhere: decide as usual. */
  | { kind: 'ordinary' }
  /** A dead broker's Will for a device's status: publish it and hand it to the ingest. */
  | { kind: 'deliver'; clientId: string }
  /** Do not publish (Aedes then forgets it, or it was deleted here first). */
  | { kind: 'drop'; reason: string }

export class ClusterWills {
  /** Connections here whose client id has just connected on another broker. */
  private readonly movedAway = new WeakSet<Client>()

  private aedes: Aedes | undefined

  /**
   * Watches other brokers' new connections, to recognise a takeover across brokers (3). Called
   * before the broker is created: the bus runs its handlers in the order they were added, so this
   * one marks the connection before Aedes' own handler closes it and publishes its Will.
   */
  constructor(
    private readonly store: WillStore,
    bus: ClusterBus,
    local: (clientId: string) => Client | undefined,
    private readonly log: Logger,
  ) {
    bus.on('$SYS/+/new/clients', (packet, done) => {
      const brokerId = packet.topic.split('/')[1]
      const payload = (packet as { payload?: unknown }).payload
      const client = this.aedes === undefined || brokerId === this.aedes.id ? undefined : local(String(payload))
      if (client) this.movedAway.add(client)
      done()
    })
  }

  /** The broker, once created. */
  attach(aedes: Aedes): void {
    this.aedes = aedes
  }

  /** A client connected here: its Wills left under other broker ids are stale (2). */
  connected(clientId: string): void {
    const aedes = this.aedes
    if (!aedes) return
    for (const brokerId of Object.keys(aedes.brokers)) {
      if (brokerId === aedes.id) continue
      this.store.delWill({ id: clientId, brokerId }).catch((err: unknown) => {
        this.log.warn({ err, clientId, brokerId }, 'could not delete a stale Will')
      })
    }
  }

  /** What to do with `packet` before it is published, when it is a Will of the cluster's. */
  async decide(client: Client | null, packet: object): Promise<WillDecision> {
    const will = packet as StoredWill
    if (will.brokerId === undefined || this.aedes === undefined) return { kind: 'ordinary' }
    if (will.brokerId === this.aedes.id) {
      // Our own connection's Will (Aedes stamped it when storing it).
      return client && this.movedAway.has(client) ? { kind: 'drop', reason: 'the client id connected on another broker' } : { kind: 'ordinary' }
    }
    const clientId = will.clientId ?? ''
    const topic = parseTopic(will.topic)
    let reason: string | undefined
    if (client !== null) reason = 'the client reconnected here'
    else if (topic?.type !== 'device-status') reason = 'a Will from a dead broker is honoured on a device status topic only'
    else if (!decideClientId({ type: 'device', deviceId: topic.deviceId }, clientId).ok) reason = `client id "${clientId}" is not one of device "${topic.deviceId}"`
    if (reason === undefined) return { kind: 'deliver', clientId }
    // Deleted here, so that Aedes, which keeps a Will it could not publish, does not retry it.
    await this.store.delWill({ id: clientId, brokerId: will.brokerId })
    // A device that came back is the expected case; anything else is a Will nobody should have set.
    const level = client !== null ? 'info' : 'warn'
    this.log[level]({ clientId, topic: will.topic, deadBroker: will.brokerId, reason }, 'dropped the Last Will of a connection on a dead broker')
    return { kind: 'drop', reason }
  }
}
