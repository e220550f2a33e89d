// A rules engine as `housing-brain rules` wires it, on a test's database and API, started and
// running its partition (it may wait behind another process of the same partition).
import { rulesUnit } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import type { Db } from '../../core/db/client.ts'
import { silentLogger } from '../../core/log.ts'
import type { RulesEngine } from '../../rules/engine.ts'

export async function startRulesEngine(db: Db, apiUrl: string, token: string, env: Record<string, string> = {}): Promise<RulesEngine> {
  const cfg = loadConfig({ RULES_TICK: '200ms', RULES_REPEAT_EVERY: '1s', ...env })
  const engine = rulesUnit(db, cfg, silentLogger, { apiUrl, token })
  await engine.start()
  await engine.whenRunning()
  return engine
}
