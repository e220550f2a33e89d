// Secrets at rest (notification channel credentials) and signed links, from one 32-byte key.
//
// Channel credentials must be usable to sign vendor requests, so they cannot be hashed: they are
// sealed with AES-256-GCM (NIST SP 800-38D), a fresh 96-bit IV per seal, and the row they belong
// to as additional data so a ciphertext copied to another row does not open. The key comes from
// NOTIFY_SECRET_KEY (base64, 32 bytes) or, unset, from a key file generated under DATA_DIR with
// mode 0600 on first use. Sub-keys for other purposes (link signatures) are derived with HKDF so
// one leaked use does not give away the other.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const VERSION = 'v1'
export const KEY_FILE = 'notify-secret.key'

function parseKey(text: string, from: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64')
  if (key.length !== KEY_BYTES) throw new Error(`${from}: expected ${KEY_BYTES} bytes in base64, got ${key.length}`)
  return key
}

/** The key from configuration, else from (or newly into) `<dataDir>/notify-secret.key`. */
export async function loadSecretKey(configured: string | undefined, dataDir: string): Promise<Buffer> {
  if (configured !== undefined) return parseKey(configured, 'NOTIFY_SECRET_KEY')
  const file = path.join(dataDir, KEY_FILE)
  try {
    return parseKey(await readFile(file, 'utf8'), file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dataDir, { recursive: true })
  try {
    // `wx`: two processes starting at once must not each write a different key.
    await writeFile(file, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  return parseKey(await readFile(file, 'utf8'), file)
}

/** `v1.<base64url iv|tag|ciphertext>`; `context` (the owning row's id) is bound as additional data. */
export function seal(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(context))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`
}

/** Throws when the text was not sealed with this key for this context (tampered, wrong key, moved). */
export function unseal(key: Buffer, sealed: string, context: string): string {
  const [version, data] = sealed.split('.')
  if (version !== VERSION || !data) throw new Error('not a sealed secret')
  const raw = Buffer.from(data, 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES))
  decipher.setAAD(Buffer.from(context))
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
}

/** A sub-key for one purpose (RFC 5869 HKDF-SHA256). */
export function deriveKey(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), purpose, KEY_BYTES))
}
