// Unicode code point arithmetic over UTF-16 strings without materializing arrays (values can be megabytes).
// A lone surrogate counts as one code point, as the string iterator does.

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Number of code points in `s` between UTF-16 indices `start` (inclusive) and `end` (exclusive). */
export function countCodePoints(s: string, start = 0, end = s.length): number {
  let count = 0;
  for (let i = start; i < end; i++) {
    if (isHigh(s.charCodeAt(i)) && i + 1 < end && isLow(s.charCodeAt(i + 1))) i++;
    count++;
  }
  return count;
}

/** UTF-16 index just after the first `n` code points, or -1 when `s` has `n` code points or fewer. */
export function indexAfterCodePoints(s: string, n: number): number {
  let i = 0;
  for (let seen = 0; seen < n; seen++) {
    if (i >= s.length) return -1;
    i += isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
  }
  return i < s.length ? i : -1;
}

/** UTF-16 index where the last `n` code points start, or -1 when `s` has `n` code points or fewer. */
export function indexOfLastCodePoints(s: string, n: number): number {
  let i = s.length;
  for (let seen = 0; seen < n; seen++) {
    if (i <= 0) return -1;
    i -= isLow(s.charCodeAt(i - 1)) && i - 2 >= 0 && isHigh(s.charCodeAt(i - 2)) ? 2 : 1;
  }
  return i > 0 ? i : -1;
}
