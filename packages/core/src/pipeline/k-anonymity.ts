import type { ExportDefinition } from '../definitions/export-definition-schema.js';
import type { CellValue } from '../ports/source.js';
import type { ExportPlan } from './export-plan.js';

/** How far `generalize` climbs: level 0 is the definition as written. */
export const MAX_GENERALIZATION_LEVEL = 4;
/** Bound on the combinations a counting pass keeps per level (a table of unique rows is not k-anonymous anyway). */
const MAX_CLASSES = 2_000_000;
const DATE_UNITS = ['day', 'month', 'year'] as const;

type Field = ExportDefinition['fields'][number];
type Spec = Exclude<Field['transform'], undefined | string>;

/**
 * One step up a quasi-identifier's generalization ladder, `level` steps from what the definition says,
 * or null when its transform has no ladder (it stays as written):
 *
 * - `date_truncate`: day → month → year;
 * - `round`: one decimal place fewer per level (`places`), or `to` × 10 per level;
 * - `mask_partial`: one kept character fewer per level (down to none);
 * - `bucket` without labels: every 2^level-th boundary (coarser buckets).
 */
export function generalizeSpec(spec: Spec, level: number): Spec | null {
  if (level === 0) return spec;
  switch (spec.type) {
    case 'date_truncate': {
      const from = DATE_UNITS.indexOf(spec.unit);
      return { ...spec, unit: DATE_UNITS[Math.min(from + level, DATE_UNITS.length - 1)]! };
    }
    case 'round':
      return spec.to !== undefined
        ? { ...spec, to: spec.to * 10 ** level }
        : { ...spec, places: Math.max(-15, (spec.places ?? 0) - level) };
    case 'mask_partial':
      return { ...spec, n: Math.max(0, spec.n - level) };
    case 'bucket': {
      if (spec.labels !== undefined) return null;
      const step = 2 ** level;
      const boundaries = spec.boundaries.filter((_b, i) => i % step === 0);
      return { ...spec, boundaries };
    }
    default:
      return null;
  }
}

/** The definition with its quasi-identifiers generalized `level` steps, and the changes in words. */
export function generalizeDefinition(
  definition: ExportDefinition,
  level: number,
): { definition: ExportDefinition; changes: string[] } {
  const qi = new Set(definition.privacy?.quasiIdentifiers ?? []);
  const changes: string[] = [];
  const fields = definition.fields.map((f) => {
    if (!qi.has(f.name) || f.transform === undefined || typeof f.transform === 'string') return f;
    const next = generalizeSpec(f.transform, level);
    if (next === null || JSON.stringify(next) === JSON.stringify(f.transform)) return f;
    changes.push(`${f.name}: ${describe(f.transform)} → ${describe(next)}`);
    return { ...f, transform: next };
  });
  return { definition: { ...definition, fields }, changes };
}

function describe(s: Spec): string {
  switch (s.type) {
    case 'date_truncate':
      return `date_truncate ${s.unit}`;
    case 'round':
      return s.to !== undefined ? `round to ${s.to}` : `round ${s.places ?? 0} places`;
    case 'mask_partial':
      return `mask_partial ${s.keep} ${s.n}`;
    case 'bucket':
      return `bucket ${s.boundaries.length} boundaries`;
    default:
      return s.type;
  }
}

/**
 * Counts, for several plans at once (one per generalization level, all reading the same projection),
 * how many output records share each combination of quasi-identifier values. Rows the plans' filters
 * drop are not counted. The key of a combination is the JSON of its values, as the batch workers make it.
 */
export class ClassCounter {
  readonly classes: Map<string, number>[];
  private readonly quasi: number[][];
  total = 0;

  constructor(private readonly plans: readonly ExportPlan[]) {
    this.classes = plans.map(() => new Map<string, number>());
    this.quasi = plans.map((p) => {
      const qi = p.privacy?.quasiIdentifiers ?? [];
      return qi.map((q) => p.emitted.findIndex((f) => f.name === q)).filter((i) => i >= 0);
    });
  }

  add(rows: readonly CellValue[][]): void {
    const first = this.plans[0]!;
    for (const row of rows) {
      let obj: Record<string, CellValue> | undefined;
      if (first.expressionInputs.length > 0) {
        obj = {};
        for (const { name, index } of first.expressionInputs) obj[name] = row[index] ?? null;
      }
      if (first.filter && first.filter.evaluate(obj!) !== true) continue;
      this.total++;
      for (let l = 0; l < this.plans.length; l++) {
        const plan = this.plans[l]!;
        const values = this.quasi[l]!.map((i) => {
          const f = plan.emitted[i]!;
          const v: CellValue = f.compute ? f.compute.evaluate(obj!) : (row[f.sourceIndex] ?? null);
          return f.transform
            ? f.transform.apply(v, f.subjectIndex >= 0 ? row[f.subjectIndex] : undefined)
            : v;
        });
        const key = JSON.stringify(values);
        const m = this.classes[l]!;
        m.set(key, (m.get(key) ?? 0) + 1);
        if (m.size > MAX_CLASSES) {
          // Nearly every record is its own class at this level: it cannot be the one chosen.
          m.clear();
          m.set('\u0000overflow', 0);
        }
      }
    }
  }
}

/** The records in classes smaller than `k`, and the keys of those classes. */
export function belowK(classes: ReadonlyMap<string, number>, k: number): { records: number; keys: string[] } {
  if (classes.has('\u0000overflow')) return { records: Infinity, keys: [] };
  let records = 0;
  const keys: string[] = [];
  for (const [key, n] of classes) {
    if (n < k) {
      records += n;
      keys.push(key);
    }
  }
  return { records, keys };
}
