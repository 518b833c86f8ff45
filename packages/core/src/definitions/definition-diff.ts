import { canonicalJson } from '../json/canonical-json.js';
import type { ExportDefinition } from './export-definition-schema.js';

/** One field-level change between two definition versions. */
export interface DefinitionChange {
  readonly kind: 'added' | 'removed' | 'changed';
  /** `fields.<name>.<key>` for output fields (matched by name, not position), else the top-level path. */
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
}

/** Field-level differences from `a` to `b`; output fields are matched by their output name. */
export function diffDefinitions(a: ExportDefinition, b: ExportDefinition): DefinitionChange[] {
  const fa = new Map<string, unknown>();
  const fb = new Map<string, unknown>();
  const split = (d: ExportDefinition, out: Map<string, unknown>) => {
    const { fields, ...rest } = d;
    flatten(rest, '', out);
    for (const f of fields) {
      const { name, ...props } = f;
      out.set(`fields.${name}`, true);
      for (const [k, v] of Object.entries(props)) out.set(`fields.${name}.${k}`, v);
    }
    out.set('fields.(order)', fields.map((f) => f.name).join(','));
  };
  split(a, fa);
  split(b, fb);
  const changes: DefinitionChange[] = [];
  for (const [k, v] of fa) {
    if (!fb.has(k)) changes.push({ kind: 'removed', path: k, before: v });
    else if (canonicalJson(v ?? null) !== canonicalJson(fb.get(k) ?? null))
      changes.push({ kind: 'changed', path: k, before: v, after: fb.get(k) });
  }
  for (const [k, v] of fb) if (!fa.has(k)) changes.push({ kind: 'added', path: k, after: v });
  return changes;
}
