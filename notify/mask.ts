// Phone numbers are personal data: the delivery log, the API and every log line show them masked
// (issue 9: "SMS to 138****1234"). The first three and last four digits stay so an operator can
// still tell two people's numbers apart; a mainland prefix (+86) is dropped because every number
// in this system is Chinese unless said otherwise.

/** `+8613812341234` → `138****1234`; `+4915112345678` → `+491****5678`; too short to mask → `****`. */
export function maskPhone(phone: string): string {
  const plus = phone.trim().startsWith('+')
  let digits = phone.replace(/\D/g, '')
  let keepPlus = plus
  if (digits.length === 13 && digits.startsWith('86')) {
    digits = digits.slice(2)
    keepPlus = false
  }
  if (digits.length < 8) return '****'
  return `${keepPlus ? '+' : ''}${digits.slice(0, 3)}****${digits.slice(-4)}`
}

/** A contact address as views and logs show it: a phone number masked, any other address as it is. */
export function maskAddress(address: string): string {
  return /^\+?\d{7,15}$/.test(address.replace(/[\s()-]/g, '')) ? maskPhone(address) : address
}
