import { findPii } from '../detectors/text-scanner.js';
import type { CellValue } from '../ports/source.js';
import type { CompiledTransform } from './compiled-transform.js';
import { maskCharacterClasses } from './mask-charclass-transform.js';
import { cellTypeName, transformFailed } from './transform-errors.js';
import type { ScanAndApplySpec } from './transform-specs.js';

export type { ScanAndApplySpec };

const LABEL: Readonly<Record<string, string>> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  national_id: '[NATIONAL_ID]',
  card_number: '[CARD_NUMBER]',
  iban: '[IBAN]',
  ip_address: '[IP_ADDRESS]',
};

export function compileScanAndApply(spec: ScanAndApplySpec, field: string): CompiledTransform {
  const label = spec.with === 'label';
  return {
    type: 'scan_and_apply',
    field,
    drops: false,
    masking: true,
    recorded: Object.freeze({ type: 'scan_and_apply', with: spec.with }),
    apply(value: CellValue): CellValue {
      if (value === null) return null;
      if (typeof value !== 'string') {
        if (typeof value === 'number') return value;
        throw transformFailed('scan_and_apply', field, `expected text, got a ${cellTypeName(value)}`);
      }
      const spans = findPii(value);
      if (spans.length === 0) return value;
      let out = '';
      let at = 0;
      for (const s of spans) {
        out +=
          value.slice(at, s.start) +
          (label ? (LABEL[s.kind] ?? '[PII]') : maskCharacterClasses(value.slice(s.start, s.end)));
        at = s.end;
      }
      return out + value.slice(at);
    },
  };
}
