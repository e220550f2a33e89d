import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../core/config.ts'

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

  it('refuses half a TLS configuration', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: '/x/cert.pem' })).toThrow(/TLS_CERT_FILE and TLS_KEY_FILE/)
  })

  it('treats an empty optional variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', MQTT_WS_PORT: '' }).DATABASE_URL).toBeUndefined()
  })
})
