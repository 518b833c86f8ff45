import { WaybillError } from '@waybill/verify';
import type { ExportDefinition, OutputField } from '../definitions/export-definition-schema.js';
import { compileExpression, type CompiledExpression } from '../expressions/index.js';
import type { CompiledTransform, TransformContext } from '../transforms/index.js';
import { compileValidTransform } from '../transforms/transform-compiler.js';
import type { SourceColumn } from '../ports/source.js';
import type { PolicyRowFilter } from '../policy/row-filters.js';

/** Several filters as one: a row is kept when every one keeps it (the definition's and the policy's). */
function allOf(filters: readonly CompiledExpression<boolean>[]): CompiledExpression<boolean> {
  const references = [...new Set(filters.flatMap((f) => f.references))];
  return {
    source: filters.map((f) => `(${f.source})`).join(' && '),
    purpose: 'filter',
    where: 'filter',
    references,
    evaluate(row) {
      for (const f of filters) if (f.evaluate(row) !== true) return false;
      return true;
    },
  };
}

/** How one output field is produced. */
export interface PlannedField {
  readonly name: string;
  readonly field: OutputField;
  /** Index into the projected source row, or -1 for a computed field. */
  readonly sourceIndex: number;
  readonly sourceType: string | null;
  readonly compute: CompiledExpression | null;
  readonly transform: CompiledTransform | null;
  /** Index of the column a per-subject transform (date_shift) reads its subject from, or -1. */
  readonly subjectIndex: number;
}

/**
 * A definition compiled against a source's columns: the projection pushed down into the source query,
 * the filter and computed fields parsed once, the transforms compiled with their keys. Decided once per
 * run, applied per row without further lookups.
 */
export interface ExportPlan {
  /** Columns read from the source, in order (projection push-down). */
  readonly columns: readonly string[];
  readonly recordIdIndex: number;
  readonly updatedAtIndex: number;
  readonly filter: CompiledExpression | null;
  /** Column indexes the filter and computed fields read, by name. */
  readonly expressionInputs: readonly { name: string; index: number }[];
  /** Every declared field, dropped ones included (they are recorded, not emitted). */
  readonly fields: readonly PlannedField[];
  /** Fields that reach the output, in declared order. */
  readonly emitted: readonly PlannedField[];
  /** The k-anonymity check's quasi-identifiers (output field names) and k, when the definition asks. */
  readonly privacy: ExportDefinition['privacy'] | undefined;
}

export function compilePlan(
  definition: ExportDefinition,
  sourceColumns: readonly SourceColumn[],
  ctx: TransformContext,
  rowFilters: readonly PolicyRowFilter[] = [],
): ExportPlan {
  const byName = new Map(sourceColumns.map((c) => [c.name, c]));
  const available = sourceColumns.map((c) => c.name).join(', ');
  const need = (name: string, where: string): SourceColumn => {
    const col = byName.get(name);
    if (!col) {
      throw new WaybillError(
        'ERR_WAYBILL_DEFINITION_INVALID',
        `${where}: column "${name}" does not exist in ${definition.source.table} (columns: ${available})`,
      );
    }
    return col;
  };
  // Cells reach CEL as `dyn`: source type names differ per source, and the values are already normalized.
  const variables = sourceColumns.map((c) => ({ name: c.name }));
  const projection: string[] = [];
  const indexOf = (name: string): number => {
    let i = projection.indexOf(name);
    if (i < 0) i = projection.push(name) - 1;
    return i;
  };

  const recordIdIndex = indexOf(need(definition.source.recordId, 'source.recordId').name);
  const updatedAtIndex = definition.source.updatedAt
    ? indexOf(need(definition.source.updatedAt, 'source.updatedAt').name)
    : -1;

  const filters = [
    ...(definition.filter
      ? [compileExpression(definition.filter, { variables, purpose: 'filter', where: 'filter' })]
      : []),
    ...rowFilters.map((r) =>
      compileExpression(r.expression, {
        variables,
        purpose: 'filter',
        where: `the row filter of policy "${r.policyId}"`,
      }),
    ),
  ];
  const filter = filters.length <= 1 ? (filters[0] ?? null) : allOf(filters);
  const refs = new Set<string>(filter?.references ?? []);

  const fields: PlannedField[] = definition.fields.map((f, i) => {
    const where = `fields[${i}] (${f.name})`;
    let sourceIndex = -1;
    let sourceType: string | null = null;
    let compute: CompiledExpression | null = null;
    const transform = f.transform === undefined ? null : compileValidTransform(f.transform, f.name, ctx);
    if (f.from !== undefined) {
      const col = need(f.from, `${where}.from`);
      sourceType = col.type;
      // A dropped field is never read: the projection pushed to the source leaves it out.
      if (!transform?.drops) sourceIndex = indexOf(col.name);
    } else if (f.compute !== undefined) {
      compute = compileExpression(f.compute, {
        variables,
        purpose: 'compute',
        where: `fields[${i}].compute`,
      });
      for (const r of compute.references) refs.add(r);
    }
    // A transform that works per subject (date_shift) reads the subject's column too.
    const subjectIndex = transform?.needsSubject
      ? indexOf(
          need(transform.subjectColumn ?? definition.source.recordId, `${where}.transform.subject`).name,
        )
      : -1;
    return { name: f.name, field: f, sourceIndex, sourceType, compute, transform, subjectIndex };
  });
  const expressionInputs = [...refs].map((name) => ({ name, index: indexOf(need(name, 'expression').name) }));
  return {
    columns: projection,
    recordIdIndex,
    updatedAtIndex,
    filter,
    expressionInputs,
    fields,
    emitted: fields.filter((f) => !f.transform?.drops),
    privacy: definition.privacy,
  };
}
