// Points the local RabbitMQ's HTTP auth backend at an API under test. The backend reads its
// paths from the application environment for every request (rabbit_auth_backend_http 3.10), so
// a set_env takes effect at once, without a restart; .ci/rabbitmq lists the backend after the
// internal one, so guest keeps working whatever these point at.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export async function pointRabbitAuthAt(baseUrl: string): Promise<void> {
  const sets = ['user', 'vhost', 'resource', 'topic'].map((what) => `ok = application:set_env(rabbitmq_auth_backend_http, ${what}_path, "${baseUrl}/${what}")`)
  await run('rabbitmqctl', ['eval', `${sets.join(', ')}, ok = application:set_env(rabbitmq_auth_backend_http, http_method, post), ok.`])
}
