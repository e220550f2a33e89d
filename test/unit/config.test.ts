import { describe, expect, it } from 'vitest'
import { ConfigError, environment, loadConfig, shownValue } from '../../core/config.ts'

describe('configuration', () => {
  it('has working defaults: embedded database under ./data, standard ports', () => {
    const cfg = loadConfig({})
    expect(cfg.database.url).toBeUndefined()
    expect(cfg.server.dataDir.endsWith('/data')).toBe(true)
    expect(cfg.broker.port).toBe(1883)
    expect(cfg.api.port).toBe(3000)
    expect(cfg.broker.wsPort).toBeUndefined()
  })

  it('names each wrong variable and what it expected', () => {
    let error: unknown
    try {
      loadConfig({ MQTT_PORT: 'eighteen', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as ConfigError).message
    expect(message).toMatch(/MQTT_PORT: .*\(got "eighteen"\)/)
    expect(message).toMatch(/DATABASE_URL: expected a postgres:\/\//)
    expect(message).toMatch(/LOG_LEVEL: .*\(got "loud"\)/)
  })

  it('believes no proxy by default; TRUST_PROXY names them by address or CIDR, a hop count or true, and refuses anything else', () => {
    expect(loadConfig({}).api.trustProxy).toBe(false)
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).api.trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1', '::1'])
    expect(loadConfig({ TRUST_PROXY: '2' }).api.trustProxy).toBe(2)
    expect(loadConfig({ TRUST_PROXY: 'true' }).api.trustProxy).toBe(true)
    for (const bad of ['yes', '10.0.0.0/33', 'nginx', '10.0.0.1/8/2']) expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY: expected true, a hop count, or addresses/)
  })

  it('allows no special egress destination by default; EGRESS_ALLOW (and its former name) lists addresses, networks and host names', () => {
    expect(loadConfig({}).egress.allow).toEqual([])
    expect(loadConfig({ EGRESS_ALLOW: '10.0.0.5, 192.168.1.0/24,smtp.internal' }).egress.allow).toEqual(['10.0.0.5', '192.168.1.0/24', 'smtp.internal'])
    expect(loadConfig({ EGRESS_ALLOW: '127.0.0.1' }).egress.allow).toEqual(['127.0.0.1'])
    for (const bad of ['10.0.0.0/33', 'http://gw.internal', '[::1]']) expect(() => loadConfig({ EGRESS_ALLOW: bad })).toThrow(/EGRESS_ALLOW: .*expected an address, a CIDR network or a host name/)
  })

  it("reads the rules engine's partition, all buckets by default", () => {
    expect(loadConfig({}).rules.partition).toEqual({ index: 0, count: 1 })
    expect(loadConfig({ RULES_PARTITION: '1/2' }).rules.partition).toEqual({ index: 1, count: 2 })
    for (const bad of ['2/2', '0/0', '1', 'a/b', '0/65']) expect(() => loadConfig({ RULES_PARTITION: bad })).toThrow(/RULES_PARTITION: expected index\/count/)
  })

  it('refuses half a TLS configuration', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: '/x/cert.pem' })).toThrow(/TLS_CERT_FILE and TLS_KEY_FILE/)
  })

  it('treats an empty optional variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', MQTT_WS_PORT: '' }).database.url).toBeUndefined()
  })

  it('runs no ChirpStack integration by default, and refuses a wildcard or a path as its application', () => {
    const cfg = loadConfig({})
    expect(cfg.chirpstack.url).toBeUndefined()
    expect(cfg.chirpstack.applicationId).toBe('+')
    expect(cfg.chirpstack.ackWindow).toBe(0)
    expect(() => loadConfig({ CHIRPSTACK_APPLICATION_ID: '#' })).toThrow(/CHIRPSTACK_APPLICATION_ID: expected \+ or one application id/)
    expect(() => loadConfig({ CHIRPSTACK_APPLICATION_ID: 'a/b' })).toThrow(/CHIRPSTACK_APPLICATION_ID/)
    expect(() => loadConfig({ CHIRPSTACK_MQTT_URL: 'http://broker:1883' })).toThrow(/CHIRPSTACK_MQTT_URL: expected an mqtt:\/\//)
  })

  it('tells a deployment that still sets a removed setting what replaced it, instead of ignoring it silently', () => {
    expect(loadConfig({}).retired).toEqual([])
    const retired = loadConfig({ READINGS_BUS_URL: 'mqtt://brokers:1883', RULES_RELOAD_EVERY: '1m' }).retired
    expect(retired).toHaveLength(2)
    expect(retired[0]).toMatch(/^READINGS_BUS_URL is no longer read: .*commit-ordered feed/)
    expect(retired[1]).toMatch(/^RULES_RELOAD_EVERY is no longer read/)
  })

  it('names a variable with one of its prefixes that no setting reads, with the nearest setting, and leaves other software\'s alone', () => {
    expect(loadConfig({}).unknown).toEqual([])
    const unknown = loadConfig({ MQTT_PROT: '1884', INGEST_BATCH_MAX_ROWZ: '100', RULES_FOO: 'x', NODE_ENV: 'production', HTTP_PROXY: 'http://proxy:3128', PATH: '/usr/bin', MQTT_PORT: '1883' }).unknown
    expect(unknown).toHaveLength(3)
    expect(unknown[0]).toMatch(/^INGEST_BATCH_MAX_ROWZ is not a setting and is ignored; did you mean INGEST_BATCH_MAX_ROWS\?/)
    expect(unknown[1]).toMatch(/^MQTT_PROT is not a setting and is ignored; did you mean MQTT_PORT\?/)
    expect(unknown[2]).toMatch(/^RULES_FOO is not a setting and is ignored \(the settings/)
    // A retired one is said retired, not unknown.
    expect(loadConfig({ READINGS_BUS_URL: 'mqtt://x' }).unknown).toEqual([])
  })

  it('bounds late readings and keeps the feed a day by default', () => {
    expect(loadConfig({}).rules.latenessMs).toBe(120_000)
    expect(loadConfig({}).retention.feedMs).toBe(86_400_000)
    expect(loadConfig({ RULES_LATENESS: '30s' }).rules.latenessMs).toBe(30_000)
  })
})

describe('configuration errors keep secrets out of the message', () => {
  function messageOf(env: Record<string, string>): string {
    try {
      loadConfig(env)
    } catch (err) {
      if (err instanceof ConfigError) return err.message
      throw err
    }
    throw new Error('expected a ConfigError')
  }

  it('hides the password of a mistyped database URL but names the variable', () => {
    const message = messageOf({ DATABASE_URL: 'postgress://hb:s3cr3t-pw@db.internal:5432/hb' })
    expect(message).toMatch(/DATABASE_URL: expected a postgres:\/\//)
    expect(message).not.toContain('s3cr3t-pw')
    expect(message).toContain('db.internal')
  })

  it('hides the password of a mistyped Redis URL', () => {
    const message = messageOf({ REDIS_URL: 'http://:redis-pw@cache:6379' })
    expect(message).toMatch(/REDIS_URL:/)
    expect(message).not.toContain('redis-pw')
  })

  it('never echoes a value of a *_PASSWORD, *_TOKEN, *_HASH, *_SECRET or *_KEY variable', () => {
    for (const name of ['MQTT_PASSWORD', 'API_TOKEN', 'NODE_RED_ADMIN_HASH', 'WEBHOOK_SECRET', 'SOME_API_KEY']) {
      expect(shownValue(name, 'hunter2')).not.toContain('hunter2')
    }
    expect(shownValue('MQTT_PORT', 'eighteen')).toBe('"eighteen"')
    expect(shownValue('MQTT_URL', 'mqtt://u:pw@host:1883')).not.toContain('pw@')
  })
})

describe('configuration by section, one time convention, renamed settings and .env', () => {
  it('hands each unit its section, every time in milliseconds written as a duration', () => {
    const cfg = loadConfig({ INGEST_BATCH_MAX_WAIT: '5ms', READINGS_RETENTION: '90d', NOTIFY_LINK_TTL: '12h' })
    expect(cfg.ingest.batchMaxWaitMs).toBe(5)
    expect(cfg.ingest.maxFutureSkewMs).toBe(300_000)
    expect(cfg.retention.readingsMs).toBe(90 * 86_400_000)
    expect(cfg.notify.linkTtlMs).toBe(12 * 3_600_000)
    expect(() => loadConfig({ READINGS_RETENTION: '90' })).toThrow(/READINGS_RETENTION: expected a duration such as 30s/)
  })

  it('still reads a renamed setting (a number in its old unit) under its new name, and says to rename it', () => {
    const cfg = loadConfig({ RETENTION_DAYS: '30', INGEST_MAX_FUTURE_SKEW_S: '60', INGEST_LATEST_FLUSH_MS: '0', AUDIT_RETENTION_DAYS: '7' })
    expect(cfg.retention.readingsMs).toBe(30 * 86_400_000)
    expect(cfg.ingest.maxFutureSkewMs).toBe(60_000)
    expect(cfg.ingest.latestFlushMs).toBe(0)
    expect(cfg.retention.auditMs).toBe(7 * 86_400_000)
    expect(cfg.retired).toContain('RETENTION_DAYS is read as READINGS_RETENTION=30d; rename it (the old name will stop being read in a later version)')
    expect(cfg.unknown).toEqual([])
    // The new name wins when both are set; an old value that is no number names the old variable.
    const both = loadConfig({ RETENTION_DAYS: '30', READINGS_RETENTION: '60d' })
    expect(both.retention.readingsMs).toBe(60 * 86_400_000)
    expect(both.retired).toEqual(['RETENTION_DAYS is ignored: READINGS_RETENTION is set too; remove RETENTION_DAYS'])
    expect(() => loadConfig({ RETENTION_DAYS: '30d' })).toThrow(/RETENTION_DAYS: expected a number of days \(got "30d"\); or set READINGS_RETENTION instead/)
  })

  it('reads a .env file (or ENV_FILE) under the environment, which wins; a named file that is missing is an error', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const path = await import('node:path')
    const dir = await mkdtemp(path.join(tmpdir(), 'hb-env-'))
    expect(environment({}, dir).file).toBeUndefined()
    await writeFile(path.join(dir, '.env'), '# a comment\nMQTT_PORT=1884\nHTTP_PORT="3001"\nNOTIFY_TIMEZONE=Asia/Urumqi\n')
    const read = environment({ HTTP_PORT: '3002' }, dir)
    expect(read.file).toBe(path.join(dir, '.env'))
    const cfg = loadConfig(read.env)
    expect(cfg.broker.port).toBe(1884)
    expect(cfg.api.port).toBe(3002)
    expect(cfg.notify.timezone).toBe('Asia/Urumqi')
    await writeFile(path.join(dir, 'prod.env'), 'MQTT_PORT=1885\n')
    expect(loadConfig(environment({ ENV_FILE: 'prod.env' }, dir).env).broker.port).toBe(1885)
    expect(() => environment({ ENV_FILE: 'missing.env' }, dir)).toThrow(/ENV_FILE: cannot read .*missing\.env \(ENOENT\)/)
  })
})
