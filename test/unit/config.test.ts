import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, shownValue } from '../../core/config.ts'

describe('configuration', () => {
  it('has working defaults: embedded database under ./data, standard ports', () => {
    const cfg = loadConfig({})
    expect(cfg.DATABASE_URL).toBeUndefined()
    expect(cfg.dataDir.endsWith('/data')).toBe(true)
    expect(cfg.MQTT_PORT).toBe(1883)
    expect(cfg.HTTP_PORT).toBe(3000)
    expect(cfg.MQTT_WS_PORT).toBeUndefined()
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
    expect(loadConfig({}).TRUST_PROXY).toBe(false)
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1', '::1'])
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2)
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true)
    for (const bad of ['yes', '10.0.0.0/33', 'nginx', '10.0.0.1/8/2']) expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY: expected true, a hop count, or addresses/)
  })

  it('allows no special egress destination by default; EGRESS_ALLOW (and its former name) lists addresses, networks and host names', () => {
    expect(loadConfig({}).EGRESS_ALLOW).toEqual([])
    expect(loadConfig({ EGRESS_ALLOW: '10.0.0.5, 192.168.1.0/24,smtp.internal' }).EGRESS_ALLOW).toEqual(['10.0.0.5', '192.168.1.0/24', 'smtp.internal'])
    expect(loadConfig({ WEBHOOK_ALLOW_DESTINATIONS: '127.0.0.1' }).WEBHOOK_ALLOW_DESTINATIONS).toEqual(['127.0.0.1'])
    for (const bad of ['10.0.0.0/33', 'http://gw.internal', '[::1]']) expect(() => loadConfig({ EGRESS_ALLOW: bad })).toThrow(/EGRESS_ALLOW: .*expected an address, a CIDR network or a host name/)
  })

  it("reads the rules engine's partition, all buckets by default", () => {
    expect(loadConfig({}).RULES_PARTITION).toEqual({ index: 0, count: 1 })
    expect(loadConfig({ RULES_PARTITION: '1/2' }).RULES_PARTITION).toEqual({ index: 1, count: 2 })
    for (const bad of ['2/2', '0/0', '1', 'a/b', '0/65']) expect(() => loadConfig({ RULES_PARTITION: bad })).toThrow(/RULES_PARTITION: expected index\/count/)
  })

  it('refuses half a TLS configuration', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: '/x/cert.pem' })).toThrow(/TLS_CERT_FILE and TLS_KEY_FILE/)
  })

  it('treats an empty optional variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', MQTT_WS_PORT: '' }).DATABASE_URL).toBeUndefined()
  })

  it('runs no ChirpStack integration by default, and refuses a wildcard or a path as its application', () => {
    const cfg = loadConfig({})
    expect(cfg.CHIRPSTACK_MQTT_URL).toBeUndefined()
    expect(cfg.CHIRPSTACK_APPLICATION_ID).toBe('+')
    expect(cfg.CHIRPSTACK_ACK_WINDOW).toBe(0)
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
    expect(loadConfig({}).RULES_LATENESS).toBe(120_000)
    expect(loadConfig({}).FEED_RETENTION).toBe(86_400_000)
    expect(loadConfig({ RULES_LATENESS: '30s' }).RULES_LATENESS).toBe(30_000)
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
