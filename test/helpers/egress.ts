// The egress allow-list of tests whose vendors, gateways and receivers are local stand-ins on
// 127.0.0.1: the allow-list a deployment would set (EGRESS_ALLOW=127.0.0.1), never a weaker guard.
import { destinationPolicy } from '../../core/egress.ts'
import type { TargetAccess } from '../../notify/channels/targets.ts'

export const ALLOW_LOOPBACK = destinationPolicy(['127.0.0.1'])

/** Registering a channel aimed at a local stand-in: allowed by the allow-list, as an admin (who may move a vendor's host). */
export const LOCAL_TARGETS: TargetAccess = { egress: ALLOW_LOOPBACK, mayOverrideVendorHost: true }

/**
 * Stand-ins on 127.0.0.2, allowed alone, for tests that also show 127.0.0.1 refused: the
 * allow-list of a deployment with one intranet gateway (EGRESS_ALLOW=127.0.0.2).
 */
export const GATEWAY_HOST = '127.0.0.2'
export const ALLOW_GATEWAY = destinationPolicy([GATEWAY_HOST])
