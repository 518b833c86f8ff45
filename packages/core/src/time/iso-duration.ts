import { WaybillError } from '@waybill/verify';

const re =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Adds an ISO 8601 duration to a time, calendar-aware for years and months (UTC). */
export function addIsoDuration(from: Date, duration: string): Date {
  const m = re.exec(duration);
  if (!m)
    throw new WaybillError(
      'ERR_WAYBILL_INVALID_INPUT',
      `"${duration}" is not an ISO 8601 duration (e.g. P90D)`,
    );
  const n = (i: number) => Number(m[i] ?? 0);
  const d = new Date(from.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + n(1), d.getUTCMonth() + n(2), d.getUTCDate() + 7 * n(3) + n(4));
  return new Date(d.getTime() + ((n(5) * 60 + n(6)) * 60 + n(7)) * 1000);
}
