// The decoder sandbox's worker thread (core/decoders/sandbox.ts is the host side). Plain
// JavaScript, so it starts without a TypeScript loader in the worker.
//
// Runs each job in a fresh QuickJS runtime (WebAssembly) with the job's memory, stack and time
// limits, and answers with `{ id, ok, output }` or `{ id, ok: false, reason, timedOut? }`. Input enters as a
// JSON string and output leaves as one: nothing of the host is reachable from the decoder.
import { parentPort } from 'node:worker_threads'
import { newQuickJSWASMModule, RELEASE_SYNC, shouldInterruptAfterDeadline } from 'quickjs-emscripten'

let module = await newQuickJSWASMModule(RELEASE_SYNC)

const CALL = `(function () {
  if (typeof decodeUplink !== 'function') throw new TypeError('decodeUplink is not defined as a function')
  var out = decodeUplink(JSON.parse(__hbInput))
  return JSON.stringify(out === undefined ? null : out)
})()`

function describe(dumped) {
  if (typeof dumped === 'object' && dumped !== null && typeof dumped.message === 'string') {
    return `${typeof dumped.name === 'string' ? dumped.name : 'Error'}: ${dumped.message}`
  }
  return String(JSON.stringify(dumped) ?? dumped).slice(0, 200)
}

function run({ source, input, limits }) {
  const runtime = module.newRuntime()
  let interrupted = false
  let outcome
  try {
    runtime.setMemoryLimit(limits.memoryLimitBytes)
    runtime.setMaxStackSize(limits.maxStackBytes)
    const overDeadline = shouldInterruptAfterDeadline(Date.now() + limits.timeLimitMs)
    runtime.setInterruptHandler((rt) => (interrupted = overDeadline(rt) === true))
    const ctx = runtime.newContext()
    try {
      // `timedOut` tells the host the run used its whole budget (its breaker counts those).
      const stopped = () => ({ ok: false, timedOut: true, reason: `the decoder ran longer than ${limits.timeLimitMs} ms and was stopped` })
      const defined = ctx.evalCode(source, 'decoder.js')
      if (defined.error) {
        const why = describe(ctx.dump(defined.error))
        defined.error.dispose()
        return interrupted ? stopped() : { ok: false, reason: `the decoder does not load: ${why}` }
      }
      defined.value.dispose()
      const inputHandle = ctx.newString(input)
      ctx.setProp(ctx.global, '__hbInput', inputHandle)
      inputHandle.dispose()
      const call = ctx.evalCode(CALL, 'call.js')
      if (call.error) {
        const why = describe(ctx.dump(call.error))
        call.error.dispose()
        return interrupted ? stopped() : { ok: false, reason: `the decoder threw ${why}` }
      }
      const text = ctx.dump(call.value)
      call.value.dispose()
      if (typeof text !== 'string') outcome = { ok: false, reason: 'the decoder returned something that is not data (a function or a symbol)' }
      else if (text.length > limits.maxOutputBytes) outcome = { ok: false, reason: `the decoder returned ${text.length} characters of JSON, more than ${limits.maxOutputBytes}` }
      else outcome = { ok: true, output: text }
    } finally {
      ctx.dispose()
    }
  } finally {
    try {
      runtime.dispose()
    } catch {
      // QuickJS asserted while freeing a runtime left in a bad state: a new module for the next job.
      module = undefined
    }
  }
  return outcome
}

parentPort.on('message', async (job) => {
  if (module === undefined) module = await newQuickJSWASMModule(RELEASE_SYNC)
  let answer
  try {
    answer = run(job)
  } catch (err) {
    module = undefined
    answer = { ok: false, reason: `the decoder broke its sandbox: ${err instanceof Error ? err.message : String(err)}` }
  }
  parentPort.postMessage({ id: job.id, ...answer })
})
// The first run of a fresh module is slow (the WebAssembly is still being compiled to machine
// code); one run now keeps that out of the first payload's time limit.
run({ source: 'function decodeUplink(input) { return { data: { n: input.bytes.length } } }', input: '{"bytes":[1]}', limits: { memoryLimitBytes: 8 << 20, maxStackBytes: 256 << 10, timeLimitMs: 10_000, maxOutputBytes: 1024 } })
parentPort.postMessage({ ready: true })
