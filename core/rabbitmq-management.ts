// RabbitMQ's management HTTP API (plugin `rabbitmq_management`, RABBITMQ_MANAGEMENT_URL): what an
// operator's tooling speaks, so housing-brain uses it to close a disabled device's connections
// (broker/rabbitmq-connections.ts) and to declare and check the telemetry queues, bindings and
// alternate-exchange policy (ingest/rabbitmq-setup.ts). Reference:
// https://www.rabbitmq.com/docs/http-api-reference
const REQUEST_TIMEOUT_MS = 10_000

export class RabbitManagementError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'RabbitManagementError'
  }
}

export class RabbitManagement {
  private readonly base: string
  private readonly authorization: string | undefined

  /** `url`: http(s)://user:pass@host:15672; the credentials travel as a Basic header, never in a logged URL. */
  constructor(url: string) {
    // fetch refuses URLs with credentials.
    const parsed = new URL(url)
    this.authorization = parsed.username ? `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}` : undefined
    parsed.username = ''
    parsed.password = ''
    this.base = parsed.toString().replace(/\/+$/, '')
  }

  /** GET `/api{path}` as JSON; undefined when RabbitMQ answers 404 (no such object). */
  async get<T>(path: string): Promise<T | undefined> {
    const res = await this.request('GET', path)
    if (res.status === 404) return undefined
    await this.expectOk('GET', path, res)
    return (await res.json()) as T
  }

  /** PUT, POST or DELETE on `/api{path}`; rejects unless RabbitMQ answers 2xx. */
  async send(method: 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<void> {
    await this.expectOk(method, path, await this.request(method, path, body, headers))
  }

  private request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.base}/api${path}`, {
      method,
      headers: {
        ...headers,
        ...(this.authorization ? { authorization: this.authorization } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  }

  private async expectOk(method: string, path: string, res: Response): Promise<void> {
    if (res.ok) return
    // RabbitMQ answers {"error": …, "reason": …}; the reason names what it refused.
    const body = (await res.json().catch(() => undefined)) as { reason?: unknown } | undefined
    const reason = typeof body?.reason === 'string' ? `: ${body.reason}` : ''
    const hint = res.status === 401 ? ' (the management user lacks a tag or permission for this)' : ''
    throw new RabbitManagementError(`RabbitMQ management API: ${method} /api${path} answered ${res.status}${reason}${hint}`, res.status)
  }
}

/** A vhost, queue or exchange name as one path segment (`/` is `%2F`). */
export const segment = (name: string): string => encodeURIComponent(name)
