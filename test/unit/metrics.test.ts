// The figures read at scrape time (core/metrics.ts): one read a second however often /metrics is
// fetched, NaN for a dependency that fails or does not answer in 2 s, never a failed page. The
// AMQP queue depth gauge is driven here through its read function; against RabbitMQ itself
// (AmqpIngest.messageCount) it belongs to the RabbitMQ tests.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createAmqpMetrics, createOutboxMetrics, createRegistry, createRulesMetrics, type OutboxFigures } from '../../core/metrics.ts'

const value = async (registry: ReturnType<typeof createRegistry>, name: string) => (await registry.getSingleMetric(name)?.get())?.values

describe('figures read at scrape time', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('gives the AMQP queue depth under its queue label, read at most once a second', async () => {
    const registry = createRegistry({ defaults: false })
    let reads = 0
    createAmqpMetrics(registry, 'hb.telemetry', () => Promise.resolve(7 + reads++))
    await registry.metrics()
    await registry.metrics()
    expect(reads).toBe(1)
    expect(await value(registry, 'hb_amqp_queue_messages')).toEqual([{ value: 7, labels: { queue: 'hb.telemetry' } }])
    vi.advanceTimersByTime(1000)
    expect(await registry.metrics()).toContain('hb_amqp_queue_messages{queue="hb.telemetry"} 8')
  })

  it('reads NaN while RabbitMQ is not connected, fails or does not answer, and the page is still served', async () => {
    const registry = createRegistry({ defaults: false })
    let reads = 0
    const answers: (() => Promise<number | undefined>)[] = [() => Promise.resolve(undefined), () => Promise.reject(new Error('channel closed')), () => Promise.resolve(1), () => new Promise<number>(() => undefined)]
    createAmqpMetrics(registry, 'q', () => {
      reads++
      return (answers.shift() ?? (() => Promise.resolve(2)))()
    })
    const scrape = async () => {
      const page = registry.metrics()
      await vi.advanceTimersByTimeAsync(2000)
      const text = await page
      vi.advanceTimersByTime(1000)
      return /^hb_amqp_queue_messages\{queue="q"\} (\S+)$/m.exec(text)?.[1]
    }
    // prom-client writes NaN as "Nan", which Prometheus reads as NaN.
    expect([await scrape(), await scrape(), await scrape(), await scrape()]).toEqual(['Nan', 'Nan', '1', 'Nan'])
    // The last read never came back: further scrapes start no second one alongside it.
    expect([await scrape(), await scrape()]).toEqual(['Nan', 'Nan'])
    expect(reads).toBe(4)
  })

  it('reads each outbox once a scrape for both its gauges, and ages the oldest undelivered from when it fell due', async () => {
    const registry = createRegistry({ defaults: false })
    let reads = 0
    const notify = (): Promise<OutboxFigures> => {
      reads++
      return Promise.resolve({ depth: 3, oldestDueAt: new Date(Date.now() - 90_000) })
    }
    createOutboxMetrics(registry, { notify, webhooks: () => Promise.resolve({ depth: 0, oldestDueAt: null }), uncovered: () => Promise.resolve(2) })
    const page = await registry.metrics()
    expect(reads).toBe(1)
    expect(page).toMatch(/^hb_notify_outbox_depth 3$/m)
    expect(page).toMatch(/^hb_notify_oldest_undelivered_seconds 90$/m)
    expect(page).toMatch(/^hb_webhook_outbox_depth 0$/m)
    expect(page).toMatch(/^hb_webhook_oldest_undelivered_seconds 0$/m)
    expect(page).toMatch(/^hb_notify_uncovered_companies 2$/m)
  })
})

describe('the rules catalogue', () => {
  it('names its metrics by Prometheus conventions and shows both late-sample outcomes from the start', async () => {
    const registry = createRegistry({ defaults: false })
    const rules = createRulesMetrics(registry)
    rules.feedLagSeconds.set({ partition: '0/2' }, 1.5)
    const page = await registry.metrics()
    expect(page).toContain('# TYPE hb_rules_samples_evaluated_total counter')
    expect(page).toContain('# TYPE hb_rules_feed_position gauge')
    expect(page).toContain('hb_rules_late_samples_total{outcome="placed"} 0')
    expect(page).toContain('hb_rules_late_samples_total{outcome="beyond_bound"} 0')
    expect(page).toContain('hb_rules_feed_lag_seconds{partition="0/2"} 1.5')
  })
})
