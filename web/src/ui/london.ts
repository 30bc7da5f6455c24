// Wall-clock times in Europe/London (GMT or BST as in force on the day), to and
// from the API's UTC instants. Forms take London dates and times; the API
// stores instants.

const PARTS = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export interface LondonTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** The London wall-clock reading of an instant. */
export function toLondon(instant: Date): LondonTime {
  const p = Object.fromEntries(PARTS.formatToParts(instant).map((x) => [x.type, x.value]));
  return { year: Number(p['year']), month: Number(p['month']), day: Number(p['day']), hour: Number(p['hour']), minute: Number(p['minute']) };
}

/** London's offset from UTC (minutes) at an instant. */
function offsetAt(ms: number): number {
  const l = toLondon(new Date(ms));
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute);
  return Math.round((asUtc - Math.floor(ms / 60000) * 60000) / 60000);
}

/** The instant a London wall-clock time names (a time skipped by the clocks
 *  going forward is read as the instant an hour later). */
export function fromLondon(t: LondonTime): Date {
  const guess = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute);
  let ms = guess - offsetAt(guess) * 60000;
  ms = guess - offsetAt(ms) * 60000;
  return new Date(ms);
}

/** `09:30` from hours and minutes. */
export function hhmm(t: LondonTime): string {
  return `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
}

/** Reads day, month and year fields; null when they do not make a real date. */
export function readDate(day: string, month: string, year: string): { year: number; month: number; day: number } | null {
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) return null;
  const d = Number(day);
  const m = Number(month);
  const y = Number(year);
  const check = new Date(Date.UTC(y, m - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return null;
  return { year: y, month: m, day: d };
}

/** Reads `HH:MM` (24-hour); null when it is not a time. */
export function readTime(text: string): { hour: number; minute: number } | null {
  const m = /^(\d{1,2})[:.](\d{2})$/.exec(text.trim());
  if (!m) return null;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) return null;
  return { hour, minute };
}
