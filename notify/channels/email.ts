// E-mail over SMTP through nodemailer. Transport security is chosen, not hoped for: `secure`
// is implicit TLS (port 465, RFC 8314), otherwise STARTTLS is required by default (`requireTLS`),
// so a server or a man in the middle that drops STARTTLS makes the send fail rather than go out in
// clear text. A private CA can be given for an internal relay. SMTP reply codes decide retrying as
// RFC 5321 §4.2.1 defines them: 4yz transient (retry), 5yz permanent; a connection that fails
// before any reply is transient too. Authentication and certificate failures are permanent: the
// same request would fail the same way. The connection to the SMTP host is opened by the egress
// guard (core/egress.ts, through nodemailer's getSocket), so the host must be a public address
// unless EGRESS_ALLOW names it, checked on the address connected to at every send.
import nodemailer from 'nodemailer'
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js'
import { z } from 'zod'
import { DestinationDenied, guardedSocket } from '../../core/egress.ts'
import type { ChannelAdapter, DeliveryOutcome, Message, Recipient } from '../channel.ts'
import { delivered, failed, linkLabel, type ChannelDeps } from './http.ts'

export const emailSettingsSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** Implicit TLS from the first byte (port 465); false means plain connect then STARTTLS. */
  secure: z.boolean().default(false),
  /** Refuse to send unless the server upgrades with STARTTLS (ignored when secure). */
  requireTLS: z.boolean().default(true),
  /** PEM of a private CA that signs the relay's certificate; the system CAs otherwise. */
  tlsCa: z.string().optional(),
  /** The From header: `alerts@example.com` or `"Housing Brain" <alerts@example.com>`. */
  from: z.string().min(3),
  username: z.string().optional(),
})
export const emailSecretsSchema = z.object({
  password: z.string().optional(),
})

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The text and HTML parts, each carrying the acknowledge link once. */
export function emailBodies(message: Message): { text: string; html: string } {
  const label = linkLabel(message.locale)
  const text = message.text.includes(message.link) ? message.text : `${message.text}\n\n${label}: ${message.link}`
  const anchor = `<p><a href="${escapeHtml(message.link)}">${escapeHtml(label)}</a></p>`
  const html = message.html === undefined
    ? `<p>${escapeHtml(message.text).replace(/\n/g, '<br>')}</p>${anchor}`
    : message.html.includes(message.link) ? message.html : `${message.html}${anchor}`
  return { text, html }
}

interface SmtpError {
  code?: string
  responseCode?: number
}

export function smtpFailure(err: unknown): DeliveryOutcome {
  if (err instanceof DestinationDenied) return failed(false, 'destination denied', `mail server: the address is ${err.range}; not allowed by EGRESS_ALLOW`)
  const e = (typeof err === 'object' && err !== null ? err : {}) as SmtpError
  // A refused STARTTLS comes with the server's 5xx, but what the operator must hear is "no TLS".
  if (e.code === 'ETLS') return failed(false, e.code, 'mail server offered no usable TLS (STARTTLS required, or certificate refused)')
  if (typeof e.responseCode === 'number') {
    const transient = e.responseCode >= 400 && e.responseCode < 500
    return failed(transient, `smtp ${e.responseCode}`, `mail server ${transient ? 'deferred' : 'refused'} the message (${e.responseCode})`)
  }
  const code = e.code ?? 'smtp error'
  if (code === 'EAUTH') return failed(false, code, 'mail server refused the credentials')
  if (code === 'EENVELOPE' || code === 'EMESSAGE') return failed(false, code, 'message or recipient address refused before sending')
  return failed(true, code, `mail server unreachable (${code})`)
}

export function createEmailChannel(settings: z.infer<typeof emailSettingsSchema>, secrets: z.infer<typeof emailSecretsSchema>, deps: Pick<ChannelDeps, 'timeoutMs' | 'egress'>): ChannelAdapter {
  const options: SMTPTransport.Options = {
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: !settings.secure && settings.requireTLS,
    tls: { minVersion: 'TLSv1.2', ...(settings.tlsCa === undefined ? {} : { ca: settings.tlsCa }) },
    connectionTimeout: deps.timeoutMs,
    greetingTimeout: deps.timeoutMs,
    socketTimeout: deps.timeoutMs,
    ...(settings.username === undefined ? {} : { auth: { user: settings.username, pass: secrets.password ?? '' } }),
    // Every connection is opened by the guard; nodemailer then speaks SMTP (and TLS) over it.
    getSocket: (_options, callback) => {
      guardedSocket(deps.egress, settings.host, settings.port, deps.timeoutMs).then(
        (connection) => callback(null, { connection }),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), {}),
      )
    },
  }
  const transport = nodemailer.createTransport(options)
  return {
    kind: 'email',
    limits: {},
    async send(message: Message, to: Recipient): Promise<DeliveryOutcome> {
      if (to.address === undefined || !to.address.includes('@')) return failed(false, 'no address', 'e-mail recipient has no address')
      const { text, html } = emailBodies(message)
      try {
        const info = await transport.sendMail({
          from: settings.from,
          to: to.name === undefined ? to.address : { name: to.name, address: to.address },
          subject: message.subject,
          text,
          html,
          headers: { 'X-HB-Alert-Id': message.alertId },
        })
        const code = /^\d{3}/.exec(info.response)?.[0] ?? '250'
        return delivered(`smtp ${code}`, `e-mail to ${to.address} accepted by the mail server`)
      } catch (err) {
        return smtpFailure(err)
      }
    },
    close(): Promise<void> {
      transport.close()
      return Promise.resolve()
    },
  }
}
