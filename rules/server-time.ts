// The rules run on the server's clock, not the devices'. A device's timestamp stays the reading's
// time in storage, but a clock a few minutes ahead would hold a "for 60 s" back until the server
// caught up with it, and a lagging one would make a device that reports every few seconds look
// silent to a no-data rule (issue 7, item 10). So the engine places each reading at the time it
// arrived: the newest reading of a device in a message at the receive time, earlier ones of the
// same message as far before it as the device's own clock says (a gateway's buffered batch keeps
// its spacing, whatever the offset of its clock).
//
// Readings replayed from storage after a restart only have device time; they are capped at the
// server's now, so a clock that ran ahead cannot push an evaluator's time past the live readings.

/** Each reading with `ts` moved onto the server's clock; the order and spacing per device are kept. */
export function onServerTime<T extends { deviceId: string; ts: number }>(readings: readonly T[], receivedAt: number): T[] {
  const newest = new Map<string, number>()
  for (const r of readings) newest.set(r.deviceId, Math.max(newest.get(r.deviceId) ?? -Infinity, r.ts))
  return readings.map((r) => ({ ...r, ts: receivedAt - ((newest.get(r.deviceId) ?? r.ts) - r.ts) }))
}

/** A stored reading's device time, never later than the server's now. */
export function replayedTime(deviceTs: number, now: number): number {
  return Math.min(deviceTs, now)
}
