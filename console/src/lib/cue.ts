// The cue for a new critical alert: a short two-tone beep (Web Audio, no sound file to load) that
// the operator can mute; the choice is remembered. The visual cue (a banner) is never muted.
import { store } from './store.ts'

const MUTE_KEY = 'hb-muted'
export const muted = store(localStorage.getItem(MUTE_KEY) === '1')
let ctx: AudioContext | undefined

export function setMuted(m: boolean): void {
  localStorage.setItem(MUTE_KEY, m ? '1' : '0')
  muted.set(m)
}

export function beep(): void {
  if (muted.get()) return
  try {
    ctx ??= new AudioContext()
    // Browsers start audio only after a user gesture; before that this is silently skipped.
    if (ctx.state !== 'running') return
    for (const [i, freq] of [880, 660].entries()) {
      const osc = ctx.createOscillator()
      const gain = ctx.createGain()
      gain.gain.value = 0.15
      osc.frequency.value = freq
      osc.connect(gain).connect(ctx.destination)
      const at = ctx.currentTime + i * 0.18
      osc.start(at)
      osc.stop(at + 0.15)
    }
  } catch {
    // No audio device: the banner still shows.
  }
}

/** Call from a click: unlocks audio for later beeps. */
export function unlockAudio(): void {
  ctx ??= new AudioContext()
  void ctx.resume().catch(() => undefined)
}
