import { WaybillError } from '@waybill/verify';
import type { CellValue } from '../ports/source.js';

// Values flowing through transforms may be personal data: these helpers only ever take the value's *type*.

/** The JSON type name of a cell value, safe to put into a message. */
export function cellTypeName(value: CellValue): string {
  if (value === null) return 'null';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'non-finite number';
  return typeof value;
}

/** `ERR_WAYBILL_TRANSFORM_FAILED` for one value, naming transform and field but never the value. */
export function transformFailed(type: string, field: string, problem: string): WaybillError {
  return new WaybillError(
    'ERR_WAYBILL_TRANSFORM_FAILED',
    `Transform ${type} failed on field "${field}": ${problem} (the value is not shown because it may be ` +
      `personal data). Check the field's type in the source, or choose a transform that fits it.`,
  );
}

/** `ERR_WAYBILL_TRANSFORM_INVALID` for a bad parameter, found while compiling the definition. */
export function transformInvalid(
  type: string,
  field: string,
  parameter: string,
  problem: string,
): WaybillError {
  const where = parameter === '' ? '' : ` parameter "${parameter}"`;
  return new WaybillError(
    'ERR_WAYBILL_TRANSFORM_INVALID',
    `Invalid transform ${type} on field "${field}":${where} ${problem}. Fix the transform in the definition.`,
  );
}
