/**
 * A value that was never filled in: the handbook's "[Name] [Phone] [Slack]", TBD, TODO, an empty
 * string; for contacts also an example.* e-mail address and a phone number of zeros (what
 * `ltc init` writes).
 */
const MARKER = /\[[^\]]*\]|\bTBD\b|\bTODO\b|^\s*$/i;

export function isPlaceholder(value: string | undefined, field?: string): boolean {
  if (value === undefined || MARKER.test(value)) return true;
  if (field === 'email' && /@example\.(com|org|net|invalid)$/i.test(value.trim())) return true;
  if (field === 'phone') {
    const digits = value.replace(/\D/g, '');
    if (digits.length > 0 && /^\d{0,3}0+$/.test(digits) && /0{5,}$/.test(digits)) return true;
  }
  return false;
}
