// The MQTT broker (Aedes) on TCP, WebSocket and optionally TLS, with housing-brain's policy:
// devices authenticate, publish and subscribe only where the ACL allows, and every telemetry or
// status message is handed to the ingest before the device receives its PUBACK.
import { readFile } from 'node:fs/promises'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer as createNetServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer } from 'node:tls'
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { MAX_PAYLOAD_BYTES } from '../core/contract.ts'
import type { DeviceDirectory } from '../core/device-directory.ts'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { closeServer, listen } from '../core/net.ts'
import { decidePublish, decideSubscribe, type Identity } from './acl.ts'
import { FailureThrottle, authenticate } from './auth.ts'
import { limitPacketSize } from './packet-limit.ts'

export interface BrokerOptions {
  host: string
  port: number
  wsPort?: number | undefined
  tlsPort?: number | undefined
  tlsCertFile?: string | undefined
  tlsKeyFile?: string | undefined
  /** Shares sessions, retained messages and routing with other Aedes instances through Redis. */
  redisUrl?: string | undefined
}

/** Where accepted publications go. The PUBACK is sent when the returned promise resolves. */
export type MessageSink = (msg: { topic: string; payload: Buffer; clientId: string; receivedAt: number }) => Promise<unknown>

export interface BrokerAddress {
  port: number
  wsPort: number | undefined
  tlsPort: number | undefined
}

/** The largest packet accepted: the ingest's payload limit plus room for the topic and header. */
const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 64 * 1024

// Aedes' CONNACK return codes for MQTT 3.1.1 (§3.2.2.3).
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

function authError(returnCode: number, message: string): AuthenticateError {
  // Aedes types the code as an ambient const enum, which isolated modules cannot reference;
  // the numbers are the spec's.
  const err = new Error(message) as AuthenticateError
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  err.returnCode = returnCode
  return err
}

export class Broker {
  private aedes: Aedes | undefined
  private readonly servers: Server[] = []
  private wss: WebSocketServer | undefined
  private readonly identities = new WeakMap<Client, Identity>()
  private readonly deviceClients = new Map<string, Set<Client>>()
  private readonly throttle = new FailureThrottle()
  private closeRedis: (() => Promise<void>) | undefined

  constructor(
    private readonly db: Db,
    private readonly directory: DeviceDirectory,
    private readonly opts: BrokerOptions,
    private readonly sink: MessageSink,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  async start(): Promise<BrokerAddress> {
    const aedesOpts: AedesOptions = {
      authenticate: (client, username, password, done) => {
        this.onAuthenticate(client, username, password).then(
          (err) => done(err, err === null),
          (err: unknown) => {
            this.log.error({ err }, 'authentication failed with an internal error')
            done(authError(3, 'server unavailable'), false)
          },
        )
      },
      authorizePublish: (client, packet, done) => {
        this.onPublish(client, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)).then(() => done(null), done)
      },
      authorizeSubscribe: (client, sub, done) => {
        const identity = this.identities.get(client)
        const decision = identity ? decideSubscribe(identity, sub.topic) : { ok: false as const, reason: 'not authenticated' }
        if (decision.ok) return done(null, sub)
        this.metrics.authFailures.inc({ reason: 'subscribe_acl' })
        this.log.warn({ clientId: client.id, topic: sub.topic, reason: decision.reason }, 'subscription refused')
        // A null subscription is answered with SUBACK return code 0x80 (MQTT 3.1.1 §3.9.3).
        done(null, null)
      },
    }
    if (this.opts.redisUrl) await this.useRedis(aedesOpts, this.opts.redisUrl)
    const aedes = await Aedes.createBroker(aedesOpts)
    this.aedes = aedes

    aedes.on('clientReady', (client) => {
      this.metrics.mqttClients.set(aedes.connectedClients)
      this.log.debug({ clientId: client.id }, 'client connected')
    })
    aedes.on('clientDisconnect', (client) => {
      this.metrics.mqttClients.set(aedes.connectedClients)
      const identity = this.identities.get(client)
      if (identity?.type === 'device') this.deviceClients.get(identity.deviceId)?.delete(client)
    })
    aedes.on('clientError', (client, err) => {
      this.log.debug({ clientId: client.id, err: err.message }, 'client error')
    })
    aedes.on('connectionError', (_client, err) => {
      this.log.debug({ err: err.message }, 'connection error before CONNECT')
    })

    const accept = (stream: Duplex, req?: IncomingMessage) => {
      limitPacketSize(stream, MAX_PACKET_BYTES, (announced) => {
        this.metrics.authFailures.inc({ reason: 'packet_too_large' })
        this.log.warn({ announced, limit: MAX_PACKET_BYTES }, 'closed a connection announcing an oversized or malformed packet')
      })
      aedes.handle(stream, req)
    }
    const tcp = createNetServer((socket) => accept(socket))
    this.servers.push(tcp)
    const port = await listen(tcp, this.opts.port, this.opts.host, 'MQTT_PORT')

    let wsPort: number | undefined
    if (this.opts.wsPort !== undefined) {
      const http: HttpServer = createHttpServer()
      this.wss = new WebSocketServer({ server: http })
      this.wss.on('connection', (socket, req) => accept(createWebSocketStream(socket), req))
      this.servers.push(http)
      wsPort = await listen(http, this.opts.wsPort, this.opts.host, 'MQTT_WS_PORT')
    }

    let tlsPort: number | undefined
    if (this.opts.tlsCertFile && this.opts.tlsKeyFile) {
      const [cert, key] = await Promise.all([readFile(this.opts.tlsCertFile), readFile(this.opts.tlsKeyFile)])
      const tls = createTlsServer({ cert, key }, (socket) => accept(socket))
      this.servers.push(tls)
      tlsPort = await listen(tls, this.opts.tlsPort ?? 8883, this.opts.host, 'MQTT_TLS_PORT')
    }
    return { port, wsPort, tlsPort }
  }

  /** Closes every live connection of a device (disabled, deleted or its secret rotated). */
  disconnectDevice(deviceId: string): number {
    const clients = [...(this.deviceClients.get(deviceId) ?? [])]
    for (const client of clients) client.close()
    this.deviceClients.delete(deviceId)
    this.directory.invalidate(deviceId)
    return clients.length
  }

  /** Resolves to null when the client may connect, or the error to refuse it with. */
  private async onAuthenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<AuthenticateError | null> {
    const address = remoteAddress(client)
    const keys = [`ip:${address}`, `user:${username ?? ''}`]
    const delay = this.throttle.delayFor(keys)
    // Hold the answer, not the event loop: slows down guessing without costing the broker.
    if (delay > 0) await new Promise((r) => setTimeout(r, delay))
    const result = await authenticate(this.db, username, password)
    if (!result.ok) {
      this.throttle.fail(keys)
      this.metrics.authFailures.inc({ reason: result.reason })
      // The password is never logged, not even its length.
      this.log.warn({ clientId: client.id, username, address, reason: result.reason }, 'MQTT login refused')
      return result.reason === 'role' || result.reason === 'disabled'
        ? authError(NOT_AUTHORIZED, 'not authorized')
        : authError(BAD_USERNAME_OR_PASSWORD, 'bad username or password')
    }
    this.throttle.succeed([`user:${username ?? ''}`])
    this.identities.set(client, result.identity)
    if (result.identity.type === 'device') {
      const set = this.deviceClients.get(result.identity.deviceId) ?? new Set()
      set.add(client)
      this.deviceClients.set(result.identity.deviceId, set)
    }
    return null
  }

  /** Throws to refuse the publication (Aedes then closes the connection, MQTT 3.1.1 has no PUBACK error code). */
  private async onPublish(client: Client | null, topic: string, payload: Buffer): Promise<void> {
    if (client === null) return // published by the broker itself
    const identity = this.identities.get(client)
    if (!identity) throw new Error('not authenticated')
    const decision = await decidePublish(identity, topic, async (gatewayId, deviceId) => {
      const child = await this.directory.get(deviceId)
      return child?.gatewayId === gatewayId
    })
    if (!decision.ok) {
      this.metrics.authFailures.inc({ reason: 'publish_acl' })
      this.log.warn({ clientId: client.id, topic, reason: decision.reason }, 'publication refused')
      throw new Error(decision.reason)
    }
    await this.sink({ topic, payload, clientId: client.id, receivedAt: Date.now() })
  }

  private async useRedis(opts: AedesOptions, url: string): Promise<void> {
    const [{ Redis }, persistence, mqemitter] = await Promise.all([
      import('ioredis'),
      import('aedes-persistence-redis'),
      import('mqemitter-redis'),
    ])
    const conn = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 })
    const mq = mqemitter.default({ connectionString: url })
    opts.persistence = persistence.default({ conn })
    opts.mq = mq
    this.closeRedis = async () => {
      await new Promise<void>((resolve) => {
        mq.close(() => resolve())
      })
      conn.disconnect()
    }
  }

  async stop(): Promise<void> {
    const aedes = this.aedes
    this.aedes = undefined
    for (const client of this.wss?.clients ?? []) client.terminate()
    this.wss?.close()
    const closing = this.servers.splice(0).map((s) => closeServer(s))
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await Promise.all(closing)
    await this.closeRedis?.()
  }
}

function remoteAddress(client: Client): string {
  const conn = client.conn as Partial<Socket>
  return conn.remoteAddress ?? client.req?.socket.remoteAddress ?? 'unknown'
}
