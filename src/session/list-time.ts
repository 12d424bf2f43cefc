// The time a LIST line shows, for servers that give no better one (no MLSD, no MDTM): to the
// minute ("Dec  2 08:15", IIS's "12-01-26  02:15PM"), or to the day for older files ("Dec  2
// 2025"). Taken as UTC, which vsftpd and most Unix servers list in; a server listing its local
// time is off by its offset (see the README's limits).

export interface ListedTime {
  /** The start of the period shown (UTC ms). */
  ms: number;
  /** How long that period is: the true time is in [ms, ms + precisionMs). */
  precisionMs: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MINUTE = 60_000;
const DAY = 86_400_000;

export function parseListedTime(raw: string | undefined, now = Date.now()): ListedTime | undefined {
  if (!raw) return undefined;
  const text = raw.trim().replace(/\s+/g, ' ');
  const dos = /^(\d{2})-(\d{2})-(\d{2}|\d{4}) (\d{1,2}):(\d{2}) ?([AP]M)?$/i.exec(text);
  if (dos) {
    const [, mm, dd, yy, hh, mi, ampm] = dos;
    const year = yy.length === 4 ? Number(yy) : Number(yy) + (Number(yy) < 70 ? 2000 : 1900);
    let hour = Number(hh);
    if (ampm) hour = (hour % 12) + (ampm.toUpperCase() === 'PM' ? 12 : 0);
    return valid(Date.UTC(year, Number(mm) - 1, Number(dd), hour, Number(mi)), MINUTE);
  }
  const unix = /^([A-Za-z]{3}) (\d{1,2}) (?:(\d{1,2}):(\d{2})|(\d{4}))$/.exec(text);
  if (!unix) return undefined;
  const month = MONTHS.indexOf(unix[1].toLowerCase());
  if (month < 0) return undefined;
  const day = Number(unix[2]);
  if (unix[5]) return valid(Date.UTC(Number(unix[5]), month, day), DAY);
  // No year: the last such date not after tomorrow (ls shows a time for the past six months).
  const thisYear = new Date(now).getUTCFullYear();
  const at = (year: number) => Date.UTC(year, month, day, Number(unix[3]), Number(unix[4]));
  return valid(at(thisYear) > now + DAY ? at(thisYear - 1) : at(thisYear), MINUTE);
}

const valid = (ms: number, precisionMs: number): ListedTime | undefined => (Number.isFinite(ms) ? { ms, precisionMs } : undefined);
