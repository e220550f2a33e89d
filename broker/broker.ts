// The MQTT broker (Aedes) on TCP, WebSocket and optionally TLS, with housing-brain's policy:
// devices authenticate, publish and subscribe only where the ACL allows, and every telemetry or
// status message is handed to the ingest before the device receives its PUBACK. Each client id
// belongs to one identity (intake/acl.ts), every delivery is rechecked against the receiver's
// identity, and a service is disconnected when its API token is revoked or expires.
import type { EventEmitter } from 'node:events'
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
import { CountedLog, type Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { closeServer, listen } from '../core/net.ts'
import type { TelemetrySink } from '../intake/telemetry-sink.ts'
import { decideClientId, decideForward, decidePublish, decideSubscribe, isTelemetryTopic, type Identity } from '../intake/acl.ts'
import { isLoopback, LoginGate, SERVICE_USERNAME } from '../intake/device-login/index.ts'
import { ClusterWills, type WillStore } from './cluster.ts'
import { ServiceSessions } from './services.ts'
import { gateReads } from './read-gate.ts'
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
  /** With Redis: how often this broker tells the others it is alive; a dead one's Wills follow after 3–7 intervals. */
  clusterHeartbeatMs?: number | undefined
  /** Password checks at once, in total and per remote address (see ConcurrencyLimit). */
  authMaxConcurrent: number
  authMaxConcurrentPerAddress: number
  /** How often connected services' tokens are rechecked, in ms. */
  tokenRecheckMs: number
  /**
   * The process's one login gate, when something else checks device secrets in it too (the HTTP
   * device API in `up`): then the bound above is theirs together. Else the broker makes its own.
   */
  logins?: LoginGate | undefined
}

export interface BrokerAddress {
  port: number
  wsPort: number | undefined
  tlsPort: number | undefined
}

/** The largest packet accepted: the ingest's payload limit plus room for the topic and header. */
const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 64 * 1024

// Aedes' CONNACK return codes for MQTT 3.1.1 (§3.2.2.3). Aedes speaks 3.1 and 3.1.1 only, so
// there are no MQTT 5 reason codes to send.
const IDENTIFIER_REJECTED = 2
const SERVER_UNAVAILABLE = 3
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
  /** The registered connection of each client id, to see a takeover coming. */
  private readonly byClientId = new Map<string, Client>()
  private readonly logins: LoginGate
  private readonly services: ServiceSessions
  private closeRedis: (() => Promise<void>) | undefined
  /** With Redis: the Wills' handling across brokers. */
  private wills: ClusterWills | undefined
  /** Logins refused while the password checks are all busy: expected, the devices retry; counted per interval. */
  private readonly busyRefusals: CountedLog

  constructor(
    private readonly db: Db,
    private readonly directory: DeviceDirectory,
    private readonly opts: BrokerOptions,
    /** Where accepted publications go (the TelemetrySink's `handle`): the PUBACK is sent when it resolves. */
    private readonly sink: TelemetrySink['handle'],
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.logins = opts.logins ?? new LoginGate(db, { max: opts.authMaxConcurrent, maxPerKey: opts.authMaxConcurrentPerAddress }, { onHeld: () => metrics.loginsHeld.inc() })
    this.services = new ServiceSessions(db, { recheckMs: opts.tokenRecheckMs }, log, metrics)
    this.busyRefusals = new CountedLog(log, { level: 'warn', intervalMs: 10_000 })
  }

  async start(): Promise<BrokerAddress> {
    const aedesOpts: AedesOptions = {
      authenticate: (client, username, password, done) => {
        this.onAuthenticate(client, username, password).then(
          (err) => done(err, err === null),
          (err: unknown) => {
            this.log.error({ err }, 'authentication failed with an internal error')
            done(authError(SERVER_UNAVAILABLE, 'server unavailable'), false)
          },
        )
      },
      authorizePublish: (client, packet, done) => {
        if (client && !this.services.stillValid(client)) return done(new Error('token revoked or expired'))
        if (packet.retain && isTelemetryTopic(packet.topic)) this.stripRetain(client, packet)
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
        // Only a stored Will carries a broker id (aedes-persistence stamps it): the hot path stays as it is.
        const publishing = this.wills && 'brokerId' in packet ? this.onWill(this.wills, client, packet, payload) : this.onPublish(client, packet.topic, payload)
        publishing.then(() => done(null), done)
      },
      authorizeSubscribe: (client, sub, done) => {
        const identity = this.services.stillValid(client) ? this.identities.get(client) : undefined
        const decision = identity ? decideSubscribe(identity, sub.topic) : { ok: false as const, reason: 'not authenticated' }
        if (decision.ok) return done(null, sub)
        this.metrics.authFailures.inc({ reason: 'subscribe_acl' })
        this.log.warn({ clientId: client.id, topic: sub.topic, reason: decision.reason }, 'subscription refused')
        // A null subscription is answered with SUBACK return code 0x80 (MQTT 3.1.1 §3.9.3).
        done(null, null)
      },
      // Checked for every delivery, live, queued or retained: a resumed session or a stored
      // subscription never lets a client receive outside what its identity may read now.
      authorizeForward: (client, packet) => {
        const identity = this.services.stillValid(client) ? this.identities.get(client) : undefined
        if (identity && decideForward(identity, packet.topic, packet.retain)) return packet
        if (!(packet.retain && isTelemetryTopic(packet.topic))) this.metrics.authFailures.inc({ reason: 'forward_acl' })
        return null
      },
    }
    if (this.opts.redisUrl) await this.useRedis(aedesOpts, this.opts.redisUrl)
    const aedes = await Aedes.createBroker(aedesOpts)
    this.aedes = aedes
    // Aedes reports a failed offline enqueue or Will check (Redis unreachable) as an 'error'
    // event, which would end the process without a listener.
    const events: EventEmitter = aedes
    events.on('error', (err: unknown) => this.log.error({ err }, 'broker error'))
    const wills = this.wills
    if (wills) {
      wills.attach(aedes)
      aedes.on('clientReady', (client) => wills.connected(client.id))
    }

    aedes.on('client', (client) => this.byClientId.set(client.id, client))
    aedes.on('clientReady', (client) => {
      this.metrics.mqttClients.set(aedes.connectedClients)
      this.log.debug({ clientId: client.id }, 'client connected')
    })
    aedes.on('clientDisconnect', (client) => {
      this.metrics.mqttClients.set(aedes.connectedClients)
      this.services.remove(client)
      if (this.byClientId.get(client.id) === client) this.byClientId.delete(client.id)
      const identity = this.identities.get(client)
      if (identity?.type === 'device') this.deviceClients.get(identity.deviceId)?.delete(client)
    })
    aedes.on('clientError', (client, err) => {
      this.log.debug({ clientId: client.id, err }, 'client error')
    })
    aedes.on('connectionError', (_client, err) => {
      this.log.debug({ err }, 'connection error before CONNECT')
    })

    const accept = (stream: Duplex, req?: IncomingMessage) => {
      limitPacketSize(stream, MAX_PACKET_BYTES, (announced) => {
        this.metrics.authFailures.inc({ reason: 'packet_too_large' })
        this.log.warn({ announced, limit: MAX_PACKET_BYTES }, 'closed a connection announcing an oversized or malformed packet')
      })
      stream.on('data', (chunk: Buffer) => this.metrics.receivedBytes.inc(chunk.length))
      gateReads(stream, aedes.handle(stream, req))
    }
    const tcp = createNetServer((socket) => accept(socket))
    this.servers.push(tcp)
    const port = await listen(tcp, this.opts.port, this.opts.host, 'MQTT_PORT')

    let wsPort: number | undefined
    if (this.opts.wsPort !== undefined) {
      const http: HttpServer = createHttpServer()
      // The packet limit applies to WebSocket frames too: without maxPayload `ws` buffers a frame
      // of up to 100 MiB (its default) before the stream, and so limitPacketSize, sees a byte.
      // With it, a frame announcing more is refused from its header (close code 1009).
      this.wss = new WebSocketServer({ server: http, maxPayload: MAX_PACKET_BYTES })
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
    this.services.start()
    return { port, wsPort, tlsPort }
  }

  /** Rechecks the tokens of connected services now (a revocation was announced). */
  recheckServices(): Promise<void> {
    return this.services.recheck()
  }

  /**
   * Telemetry is never retained: accepted as it is, with the flag cleared. The reading is as
   * fresh as any other when it arrives; only keeping it would make it stale (the broker would
   * replay it as new to every subscriber, the rules engine included, issue 7 item 9). Storing it
   * loses nothing and keeps PUBACK-after-commit; refusing would close the connection (MQTT 3.1.1
   * has no negative PUBACK) and a persistent session would resend it forever; dead-lettering
   * would drop a valid reading for a transport flag.
   */
  private stripRetain(client: Client | null, packet: { topic: string; retain: boolean }): void {
    packet.retain = false
    this.metrics.retainStripped.inc()
    this.log.debug({ clientId: client?.id, topic: packet.topic }, 'retain flag cleared on telemetry')
  }

  /**
   * A device changed (by the API, maybe in another process): one disabled or given a new secret
   * loses its live connections at once; any other change only refreshes its cached registry entry.
   */
  deviceChanged(change: { id: string; credentials?: boolean | undefined }): void {
    if (change.credentials) this.disconnectDevice(change.id)
    else this.directory.invalidate(change.id)
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
    // A device's client id is known to be wrong before its secret is checked: no scrypt spent.
    if (username !== undefined && username !== SERVICE_USERNAME) {
      const refused = this.checkClientId(client, { type: 'device', deviceId: username }, address)
      if (refused) return refused
    }
    const result = await this.logins.login(username, password, { address, shared: isLoopback(address) })
    if (!result.ok) {
      this.metrics.authFailures.inc({ reason: result.reason })
      if (result.reason === 'busy') {
        this.busyRefusals.note('MQTT logins refused: too many password checks at once (the devices retry)', { clientId: client.id, address, inFlight: this.logins.inFlight })
        return authError(SERVER_UNAVAILABLE, 'server unavailable')
      }
      // The password is never logged, not even its length.
      this.log.warn({ clientId: client.id, username, address, reason: result.reason }, 'MQTT login refused')
      return result.reason === 'role' || result.reason === 'disabled'
        ? authError(NOT_AUTHORIZED, 'not authorized')
        : authError(BAD_USERNAME_OR_PASSWORD, 'bad username or password')
    }
    const refused = this.checkClientId(client, result.identity, address)
    if (refused) return refused
    if (result.tokenId !== undefined && !(await this.services.add(client, result.tokenId))) {
      return authError(BAD_USERNAME_OR_PASSWORD, 'bad username or password')
    }
    const previous = this.byClientId.get(client.id)
    if (previous && previous !== client) {
      // Legitimate after a half-open connection (the device reconnects before the broker noticed),
      // suspicious when frequent: counted and logged with both addresses.
      this.metrics.takeovers.inc()
      this.log.warn({ clientId: client.id, address, previousAddress: remoteAddress(previous) }, 'a new connection takes over this client id')
    }
    this.identities.set(client, result.identity)
    if (result.identity.type === 'device') {
      const set = this.deviceClients.get(result.identity.deviceId) ?? new Set()
      set.add(client)
      this.deviceClients.set(result.identity.deviceId, set)
    }
    return null
  }

  /** The CONNACK error when `identity` may not use the client's id, else undefined. */
  private checkClientId(client: Client, identity: Parameters<typeof decideClientId>[0], address: string): AuthenticateError | undefined {
    const decision = decideClientId(identity, client.id)
    if (decision.ok) return undefined
    this.metrics.authFailures.inc({ reason: 'client_id' })
    this.log.warn({ clientId: client.id, address, reason: decision.reason }, 'MQTT login refused: client id of another identity')
    return authError(IDENTIFIER_REJECTED, 'identifier rejected')
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

  /** A Will stamped with a broker id: ours at a disconnect, or a dead broker's (broker/cluster.ts). */
  private async onWill(wills: ClusterWills, client: Client | null, packet: object & { topic: string }, payload: Buffer): Promise<void> {
    const decision = await wills.decide(client, packet)
    if (decision.kind === 'drop') throw new Error(decision.reason)
    if (decision.kind === 'ordinary') return this.onPublish(client, packet.topic, payload)
    await this.sink({ topic: packet.topic, payload, clientId: decision.clientId, receivedAt: Date.now() })
  }

  private async useRedis(opts: AedesOptions, url: string): Promise<void> {
    const [{ Redis }, persistence, mqemitter] = await Promise.all([
      import('ioredis'),
      import('aedes-persistence-redis'),
      import('mqemitter-redis'),
    ])
    const conn = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 })
    const mq = mqemitter.default({ connectionString: url })
    const store = persistence.default({ conn })
    opts.persistence = store
    opts.mq = mq
    if (this.opts.clusterHeartbeatMs !== undefined) opts.heartbeatInterval = this.opts.clusterHeartbeatMs
    // A lost Redis connection is reported on the emitter's state, which would end the process
    // without a listener; ioredis reconnects by itself.
    const { state } = mq as unknown as { state: EventEmitter } // untyped in mqemitter-redis 7
    state.on('error', (err: unknown) => this.log.error({ err }, 'Redis bus error'))
    // The persistence is untyped; delWill is part of Aedes' persistence interface (aedes-persistence).
    this.wills = new ClusterWills(store as WillStore, mq, (clientId) => this.byClientId.get(clientId), this.log)
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
    this.services.stop()
    this.busyRefusals.flush()
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
