// Machine-wide CPU accounting from the kernel's per-core counters (os.cpus()), so a run can say
// where the CPU went and whether something else on the machine was competing for it.
import os from 'node:os'

/** Busy CPU time of the whole machine since boot, summed over cores (ms). */
export function machineBusyMs(): number {
  let busy = 0
  for (const cpu of os.cpus()) busy += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq
  return busy
}

/** CPU the rest of the machine uses while this process sleeps, in % of one core. */
export async function backgroundCpuPct(sampleMs = 1000): Promise<number> {
  const before = machineBusyMs()
  const self = process.cpuUsage()
  await new Promise((r) => setTimeout(r, sampleMs))
  const own = process.cpuUsage(self)
  const busy = machineBusyMs() - before - (own.user + own.system) / 1000
  return Math.max(0, (busy / sampleMs) * 100)
}
