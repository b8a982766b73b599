/**
 * RFC 3339 times (section 5.6, `date-time`), read strictly: `2026-12-01T21:00:00Z`,
 * `2026-12-01T22:00:00.250+01:00`. Pure: no clock, and no `Date.parse`, which takes far more than
 * RFC 3339 (`"Dec 1 2026"`, a time with no offset read as local time), and differently across engines.
 */

/** The example problems give. */
export const RFC3339_EXAMPLE = '2026-12-01T21:00:00Z';

// full-date "T" full-time; "T" and "Z" may be lower case (RFC 3339 5.6, NOTE); the offset is "Z" or ±hh:mm.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** The parts of a time that matched the shape, as numbers; the fraction as milliseconds (digits beyond them cut off). */
interface Parts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly ms: number;
  /** East of UTC is positive. */
  readonly offsetMinutes: number;
  readonly offsetHour: number;
  readonly offsetMinute: number;
}

function partsOf(text: string): Parts | undefined {
  const match = DATE_TIME.exec(text);
  if (match === null) return undefined;
  const number = (index: number): number => Number(match[index] ?? 0);
  const offsetHour = number(9);
  const offsetMinute = number(10);
  return {
    year: number(1),
    month: number(2),
    day: number(3),
    hour: number(4),
    minute: number(5),
    second: number(6),
    ms: Number((match[7] ?? '').slice(0, 3).padEnd(3, '0')),
    offsetMinutes: (match[8] === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute),
    offsetHour,
    offsetMinute,
  };
}

/** What is wrong with `text` as an RFC 3339 time, naming the value; `undefined` when it is one. */
export function rfc3339Problem(text: string): string | undefined {
  const parts = partsOf(text);
  if (parts === undefined)
    return `expected an RFC 3339 time such as "${RFC3339_EXAMPLE}" (with "Z" or an offset such as "+01:00"), received ${JSON.stringify(text)}`;
  const two = (value: number): string => String(value).padStart(2, '0');
  const { year, month, day, hour, minute, second, offsetHour, offsetMinute } = parts;
  const problem =
    month < 1 || month > 12
      ? `month ${two(month)} is not from 01 to 12`
      : day < 1 || day > daysIn(year, month)
        ? `day ${two(day)} is not a day of ${String(year).padStart(4, '0')}-${two(month)}`
        : hour > 23
          ? `hour ${two(hour)} is not from 00 to 23`
          : minute > 59
            ? `minute ${two(minute)} is not from 00 to 59`
            : // RFC 3339 allows 60 for a leap second; the clocks glean reads never show one, so it is refused, not guessed at.
              second > 59
              ? `second ${two(second)} is not from 00 to 59 (leap seconds are not taken)`
              : offsetHour > 23 || offsetMinute > 59
                ? `offset ${two(offsetHour)}:${two(offsetMinute)} is not from 00:00 to 23:59`
                : undefined;
  return problem === undefined ? undefined : `${problem} in ${JSON.stringify(text)}`;
}

/** `text`, an RFC 3339 time ({@link rfc3339Problem} found nothing), as milliseconds since 1970-01-01T00:00:00Z. */
export function rfc3339EpochMs(text: string): number {
  const parts = partsOf(text);
  if (parts === undefined || rfc3339Problem(text) !== undefined) throw new TypeError(`not an RFC 3339 time: ${text}`);
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0 to 99 as 1900 to 1999.
  date.setUTCFullYear(parts.year, parts.month - 1, parts.day);
  date.setUTCHours(parts.hour, parts.minute, parts.second, parts.ms);
  return date.getTime() - parts.offsetMinutes * 60_000;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
