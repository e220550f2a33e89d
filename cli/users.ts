// `housing-brain users add|list|revoke|token|password|totp-reset|wecom|dingtalk`: manage users, API tokens,
// one-time passwords, two-step sign-in and WeCom / DingTalk links from the shell (the same as the admin API routes). A token or password is printed
// once, to stdout only.
import { parseArgs } from 'node:util'
import { parseDuration } from '../shared/duration.ts'
import { UsageError } from '../core/errors.ts'
import { ROLES, type Role } from '../shared/domain.ts'
import { resetPassword } from '../core/passwords.ts'
import { clearTotp } from '../core/repos/totp.ts'
import { DINGTALK_UNION_ID } from '../core/sso/dingtalk.ts'
import { WECOM_USERID } from '../core/sso/wecom.ts'
import { findUserByName, insertUser, issueToken, listTokens, listUsers, revokeTokens, setDingtalkUnionId, setWecomUserId } from '../core/repos/tokens.ts'
import type { CommandContext } from './context.ts'
import { openDatabase } from './stack.ts'

const USAGE = `housing-brain users add --name NAME --role ${ROLES.join('|')} [--company ID] [--community ID] [--street ID] [--expires 90d]
housing-brain users token --name NAME [--expires 90d]     another token for a user
housing-brain users list
housing-brain users revoke --name NAME                    every token of the user
housing-brain users revoke --token TOKEN_ID
housing-brain users password --name NAME                  a one-time password (changed at the next sign-in)
housing-brain users totp-reset --name NAME                two-step sign-in off (a lost phone; the last admin's too)
housing-brain users wecom --name NAME --userid USERID     link the WeCom account that signs in as the user (--userid '' unlinks)
housing-brain users dingtalk --name NAME --unionid UNIONID   link the DingTalk account (its unionId) that signs in as the user (--unionid '' unlinks)`


function expiry(text: string | undefined): Date | null {
  if (text === undefined) return null
  const ms = parseDuration(text)
  if (!ms) throw new UsageError(`--expires: expected a duration such as 90d or 12h, got "${text}"`)
  return new Date(Date.now() + ms)
}

export async function usersCommand(ctx: CommandContext): Promise<void> {
  const [action, ...rest] = ctx.args
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      company: { type: 'string' },
      community: { type: 'string' },
      street: { type: 'string' },
      expires: { type: 'string' },
      token: { type: 'string' },
      userid: { type: 'string' },
      unionid: { type: 'string' },
    },
  })
  if (!action || !['add', 'token', 'list', 'revoke', 'password', 'totp-reset', 'wecom', 'dingtalk'].includes(action)) throw new UsageError(`usage:\n${USAGE}`)
  const { db } = await openDatabase(ctx.cfg, ctx.log, 'housing-brain users', true)
  try {
    switch (action) {
      case 'add': {
        const role = values.role as Role | undefined
        if (!values.name || !role || !ROLES.includes(role)) throw new UsageError(`usage:\n${USAGE}`)
        const id = await insertUser(db, { name: values.name, role, companyId: values.company ?? null, communityId: values.community ?? null, streetId: values.street ?? null }).catch((err: unknown) => {
          throw new UsageError(`could not add "${values.name}": ${(err as Error).message} (a crew member needs --company, a resident --community, a street officer --street, a name must be new)`)
        })
        console.log((await issueToken(db, id, { label: 'created with the CLI', expiresAt: expiry(values.expires) })).token)
        return
      }
      case 'token': {
        const user = values.name ? await findUserByName(db, values.name) : undefined
        if (!user) throw new UsageError(`no user "${values.name ?? ''}"`)
        console.log((await issueToken(db, user.id, { label: 'created with the CLI', expiresAt: expiry(values.expires) })).token)
        return
      }
      case 'list': {
        for (const u of await listUsers(db)) {
          const tokens = await listTokens(db, u.id)
          const live = tokens.filter((t) => !t.revokedAt && (!t.expiresAt || t.expiresAt > new Date())).length
          console.log([u.name, u.role, u.companyId ?? u.communityId ?? u.streetId ?? '-', `${live} active token(s)`, ...(u.wecomUserId ? [`WeCom ${u.wecomUserId}`] : []), ...(u.dingtalkUnionId ? [`DingTalk ${u.dingtalkUnionId}`] : [])].join('\t'))
        }
        return
      }
      case 'password': {
        const user = values.name ? await findUserByName(db, values.name) : undefined
        if (!user) throw new UsageError(`no user "${values.name ?? ''}"`)
        console.log((await resetPassword(db, user.id)).password)
        return
      }
      case 'totp-reset': {
        const user = values.name ? await findUserByName(db, values.name) : undefined
        if (!user) throw new UsageError(`no user "${values.name ?? ''}"`)
        console.log(`${(await clearTotp(db, user.id)) ? 'two-step sign-in reset' : 'two-step sign-in was off'} for ${user.name}`)
        return
      }
      case 'wecom': {
        const user = values.name ? await findUserByName(db, values.name) : undefined
        if (!user) throw new UsageError(`no user "${values.name ?? ''}"`)
        const userid = values.userid?.trim()
        if (userid === undefined || (userid !== '' && !WECOM_USERID.test(userid))) throw new UsageError(`--userid: expected a WeCom userid (账号: up to 64 letters, digits, _ - . @ or /), or '' to unlink`)
        await setWecomUserId(db, user.id, userid === '' ? null : userid).catch((err: unknown) => {
          if ((err as { code?: string }).code === '23505') throw new UsageError(`"${userid}" is linked to another user already`)
          throw err
        })
        console.log(userid === '' ? `${user.name} has no WeCom account linked now` : `${user.name} signs in with WeCom as ${userid}`)
        return
      }
      case 'dingtalk': {
        const user = values.name ? await findUserByName(db, values.name) : undefined
        if (!user) throw new UsageError(`no user "${values.name ?? ''}"`)
        const unionId = values.unionid?.trim()
        if (unionId === undefined || (unionId !== '' && !DINGTALK_UNION_ID.test(unionId))) throw new UsageError(`--unionid: expected a DingTalk unionId (up to 64 letters, digits or _ - + / = .), or '' to unlink`)
        await setDingtalkUnionId(db, user.id, unionId === '' ? null : unionId).catch((err: unknown) => {
          if ((err as { code?: string }).code === '23505') throw new UsageError(`"${unionId}" is linked to another user already`)
          throw err
        })
        console.log(unionId === '' ? `${user.name} has no DingTalk account linked now` : `${user.name} signs in with DingTalk as ${unionId}`)
        return
      }
      case 'revoke': {
        if (values.token) {
          console.log(`revoked ${await revokeTokens(db, { tokenId: values.token })} token(s)`)
          return
        }
        const user = values.name ? await findUserByName(db, values.name) : undefined
        if (!user) throw new UsageError(`no user "${values.name ?? ''}"`)
        console.log(`revoked ${await revokeTokens(db, { userId: user.id })} token(s) of ${user.name}`)
        return
      }
    }
  } finally {
    await db.close()
  }
}
