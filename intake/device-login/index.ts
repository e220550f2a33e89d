// Device login, the one module every front logs devices in through: the broker's authenticate
// hook (broker/broker.ts), the HTTP device API (intake/http/device-telemetry.ts) and RabbitMQ's
// HTTP auth backend (intake/http/rabbitmq-auth.ts).
//
// - gate.ts: the check (scrypt secrets, API tokens for services), the failure throttle and the
//   bound on concurrent checks;
// - secret-check.ts: a device's id and secret against the registry, at constant cost;
// - verified-secrets.ts: secrets proven right lately, so a device that logs in on every request
//   costs one scrypt per minute;
// - logins.ts: one process's gate and cache together, shared with the broker in `up`.
export { authenticate, ConcurrencyLimit, FailureThrottle, isLoopback, LoginGate, SERVICE_USERNAME, throttleKeys, type AuthResult, type LoginOrigin, type LoginResult } from './gate.ts'
export { DEFAULT_DEVICE_LOGIN_LIMITS, deviceLogins, newDeviceLoginGate, type DeviceLoginLimits, type DeviceLogins } from './logins.ts'
export { DEFAULT_VERIFIED_SECRETS, VerifiedSecrets, type VerifiedSecretsOptions } from './verified-secrets.ts'
