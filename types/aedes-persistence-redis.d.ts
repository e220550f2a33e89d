// The package ships no types; this is the part housing-brain uses (see its README).
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis'
  export default function persistence(opts: { conn?: Redis; maxSessionDelivery?: number }): unknown
}
