// One shared clock for countdowns, ticking every 10 s (deadlines are shown to the minute).
import { store } from './store.ts'

export const now = store(Date.now())
setInterval(() => now.set(Date.now()), 10_000)
