// OneNET's push signature, shared by the receiver (intake/http/onenet.ts) and whatever speaks as
// OneNET (simulators/http.ts): Base64(MD5(token + nonce + msg)), where msg is the JSON text of the
// push's `msg` member as sent. Source: OneNET "HTTP推送 开发指南",
// open.iot.10086.cn/doc/book/application-develop/httppush/develop-manual.html
import { createHash } from 'node:crypto'

export function onenetSignature(token: string, nonce: string, msg: string): string {
  return createHash('md5').update(token + nonce + msg, 'utf8').digest('base64')
}
