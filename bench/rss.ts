// Peak resident set size of this process, in KiB.
import { readFileSync, writeFileSync } from 'node:fs'

/**
 * VmHWM from /proc/self/status where there is one: getrusage's maxRSS (process.resourceUsage)
 * survives execve on Linux, so a child spawned by a large parent would report the parent's size.
 */
export function peakRssKiB(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match?.[1]) return Number(match[1])
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS
}

/**
 * Starts the peak over from the current size (Linux: writing 5 to clear_refs resets VmHWM), so each
 * database of one bench run reports its own peak, not the largest of those before it.
 */
export function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5')
  } catch {
    // Not Linux, or not allowed: the peak stays the process's since start.
  }
}
