// Letters from other scripts that look like Latin ones (Unicode confusables, the common subset), so a
// "homoglyph email" (`jоhn@exаmple.com` with Cyrillic о and а) is recognised as the email it imitates.
const CONFUSABLES: Readonly<Record<string, string>> = {
  а: 'a',
  в: 'b',
  е: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ɡ: 'g',
  ʏ: 'y',
  ı: 'i',
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  Х: 'X',
  І: 'I',
  Ј: 'J',
  Ѕ: 'S',
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
};
// Invisible characters that split a value without changing how it looks.
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/;
const NON_ASCII = /[^\u0020-\u007e\t\n\r]/;

/**
 * Text as the detectors read it: compatibility forms folded (NFKC: fullwidth `＠` → `@`, `①` → `1`),
 * look-alike letters of other scripts mapped to Latin, invisible characters dropped. `map[i]` is the
 * index in the original of the folded text's character `i` (absent for ASCII text, which is unchanged).
 */
export function foldText(text: string): { text: string; map?: number[] } {
  if (!NON_ASCII.test(text)) return { text };
  let out = '';
  const map: number[] = [];
  let i = 0;
  for (const ch of text) {
    if (!INVISIBLE.test(ch)) {
      const folded = CONFUSABLES[ch] ?? (ch.charCodeAt(0) < 128 ? ch : ch.normalize('NFKC'));
      for (let k = 0; k < folded.length; k++) map.push(i);
      out += folded;
    }
    i += ch.length;
  }
  map.push(i);
  return { text: out, map };
}
