import type { Environment, ParseResult } from '@marcbachmann/cel-js';
import { WaybillError } from '@waybill/verify';
import type { CellValue } from '../ports/source.js';
import { createCelEnvironment } from './cel-environment.js';
import { celTypeName, fromCel, toCel, type ExpressionValueType } from './cel-values.js';
import { closestName } from './closest-name.js';
import { calledFunctions } from './called-functions.js';
import { freeIdentifiers } from './expression-references.js';

/** `filter` expressions must yield a bool for every row; `compute` expressions yield a cell value. */
export type ExpressionPurpose = 'filter' | 'compute';

/** A column an expression may read. */
export interface ExpressionVariable {
  readonly name: string;
  /** How cells are handed to CEL; `dyn` when absent. See {@link ExpressionValueType}. */
  readonly type?: ExpressionValueType;
}

export interface CompileExpressionOptions<P extends ExpressionPurpose = ExpressionPurpose> {
  /** The columns the expression may read. Any other identifier is an error at compile time. */
  readonly variables: readonly ExpressionVariable[];
  readonly purpose: P;
  /** Where the expression sits in the definition, for messages: `filter`, `fields[3].compute`. */
  readonly where: string;
}

/** A parsed, checked expression, evaluated once per row. */
export interface CompiledExpression<R extends CellValue = CellValue> {
  readonly source: string;
  readonly purpose: ExpressionPurpose;
  readonly where: string;
  /** The columns the expression reads, in order of first use: push this projection down into the source. */
  readonly references: readonly string[];
  /**
   * Evaluates the expression on one row. A referenced column missing from `row` counts as `null`.
   * Throws `ERR_WAYBILL_EXPRESSION_INVALID` naming `where` (never a value) when evaluation fails, when a cell
   * does not fit its declared type, when a filter yields a non-bool or a computed field a non-cell value.
   */
  evaluate(row: Readonly<Record<string, CellValue | undefined>>): R;
}

const CEL_IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
const CEL_DOCS = 'https://github.com/google/cel-spec/blob/master/doc/langdef.md';

/**
 * Compiles a CEL expression (a row filter or a computed field) over the given columns. The source is parsed and
 * type-checked once; references to unknown columns, syntax and type errors are reported here as
 * `ERR_WAYBILL_EXPRESSION_INVALID` with `where`, line and column.
 *
 * Semantics, beyond standard CEL:
 * - cells are handed over per the column's `type` (default `dyn`: integral numbers as `int`, others as `double`,
 *   strings, bools, `null`); `int` and `double` compare with each other, and mixed `int`/`double` arithmetic
 *   yields `double`, so `lifetime_value >= 1000` works whether a row holds `1500` or `1500.5`;
 * - `null` is a value like any other: `col == null` tests for it, but `col >= 1000` on a null cell is an
 *   evaluation error (no overload for null) — guard with `col != null && col >= 1000`. A missing column is null;
 * - results: `int` → number when within ±2^53, else a decimal string; timestamps → RFC 3339 UTC strings;
 *   bytes → base64; lists, maps, durations and non-finite doubles are errors. A filter must yield a bool
 *   (`null` is not false).
 *
 * No JavaScript is generated or evaluated: CEL is interpreted by `@marcbachmann/cel-js`.
 *
 * @example
 * ```ts
 * const keep = compileExpression('country in ["US", "CA"] && lifetime_value >= 1000', {
 *   variables: [{ name: 'country' }, { name: 'lifetime_value' }],
 *   purpose: 'filter',
 *   where: 'filter',
 * });
 * keep.references; // ['country', 'lifetime_value']
 * keep.evaluate({ country: 'US', lifetime_value: 1500.5 }); // true
 * ```
 */
export function compileExpression(
  source: string,
  options: CompileExpressionOptions<'filter'>,
): CompiledExpression<boolean>;
export function compileExpression(
  source: string,
  options: CompileExpressionOptions<'compute'>,
): CompiledExpression;
export function compileExpression(source: string, options: CompileExpressionOptions): CompiledExpression;
export function compileExpression(source: string, options: CompileExpressionOptions): CompiledExpression {
  const { purpose, where } = options;
  const declared = new Map<string, ExpressionValueType>();
  for (const variable of options.variables) {
    if (!declared.has(variable.name)) declared.set(variable.name, variable.type ?? 'dyn');
  }

  const env = createCelEnvironment();
  const columns = new Set<string>();
  for (const name of declared.keys()) {
    // Names that are not CEL identifiers (or are reserved, like `package`) cannot be written in an expression.
    if (!CEL_IDENTIFIER.test(name) || env.hasVariable(name)) continue;
    try {
      env.registerVariable(name, 'dyn');
      columns.add(name);
    } catch {
      // Reserved by CEL: such a column cannot be referenced, which the unknown-column check reports if tried.
    }
  }

  const program = parseOrThrow(env, source, where);
  // `matches()` runs a backtracking JavaScript RegExp, not RE2: one crafted value can hang an export
  // (catastrophic backtracking) and no time limit can interrupt it. Refused until a linear-time engine backs it.
  if (calledFunctions(program.ast).has('matches')) {
    throw new WaybillError(
      'ERR_WAYBILL_EXPRESSION_INVALID',
      `${where}: matches() is not available (regular expressions can take exponential time on crafted values); ` +
        'use startsWith(), endsWith(), contains() or ==',
    );
  }
  const builtin = (name: string): boolean => !columns.has(name) && env.hasVariable(name);
  const references = freeIdentifiers(program.ast, builtin);

  const unknown = references.find((r) => !columns.has(r.name));
  if (unknown !== undefined) {
    const suggestion = closestName(unknown.name, columns);
    const known = [...columns];
    const listed =
      known.length === 0 ? 'none' : known.slice(0, 30).join(', ') + (known.length > 30 ? ', …' : '');
    throw new WaybillError(
      'ERR_WAYBILL_EXPRESSION_INVALID',
      `Unknown column "${unknown.name}" in ${where} at ${locate(source, unknown.start)}.` +
        `${suggestion === undefined ? '' : ` Did you mean "${suggestion}"?`}\n${excerpt(source, unknown.start)}\n` +
        `Columns the expression can read: ${listed}. Fix the name, or add the column to the definition's source.`,
    );
  }

  const checked = program.check();
  if (!checked.valid) {
    const error = checked.error;
    const start = error?.range?.start ?? 0;
    throw new WaybillError(
      'ERR_WAYBILL_EXPRESSION_INVALID',
      `Invalid expression in ${where} at ${locate(source, start)}: ${error?.summary ?? 'type error'}.\n` +
        `${excerpt(source, start)}\nFix the expression: check function names and arguments, and compare like with like ` +
        `(convert with int(), double() or string()).`,
      { cause: error },
    );
  }
  if (purpose === 'filter' && checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new WaybillError(
      'ERR_WAYBILL_EXPRESSION_INVALID',
      `The filter in ${where} must evaluate to a bool, but it yields ${checked.type ?? 'an unknown type'}. ` +
        `Write a condition, e.g. \`status == "active"\`.`,
    );
  }

  const names = references.map((r) => r.name);
  const types = names.map((name) => declared.get(name) ?? 'dyn');
  // One context object reused across rows: evaluation is synchronous (no async functions are registered), and
  // a null prototype keeps column names like `constructor` from resolving to Object.prototype members.
  const context = Object.create(null) as Record<string, unknown>;

  const run = (row: Readonly<Record<string, CellValue | undefined>>): unknown => {
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const cell = Object.hasOwn(row, name) ? (row[name] ?? null) : null;
      const value = toCel(cell, types[i]!);
      if (value === undefined) throw cellTypeMismatch(where, name, types[i]!, cell);
      context[name] = value;
    }
    try {
      return program(context);
    } catch (err) {
      throw evaluationFailed(err, source, where, names, context);
    }
  };

  return {
    source,
    purpose,
    where,
    references: Object.freeze(names),
    evaluate:
      purpose === 'filter'
        ? (row) => {
            const result = run(row);
            if (typeof result === 'boolean') return result;
            throw new WaybillError(
              'ERR_WAYBILL_EXPRESSION_INVALID',
              `The filter in ${where} must evaluate to a bool, but yielded ${celTypeName(result)} for a row ` +
                `(the value is not shown). Make it a condition; if a column can be null, test it explicitly, ` +
                `e.g. \`col != null && col\`.`,
            );
          }
        : (row) => {
            const result = run(row);
            const cell = fromCel(result);
            if (cell !== undefined) return cell;
            const kind = celTypeName(result);
            throw new WaybillError(
              'ERR_WAYBILL_EXPRESSION_INVALID',
              `The expression in ${where} yielded ${kind === 'double' ? 'a non-finite double (NaN or ±Infinity)' : `a ${kind}`}` +
                ` for a row (the value is not shown), which cannot be stored in a cell. Make it yield a string, ` +
                `number, bool, timestamp or null, e.g. with string(…).`,
            );
          },
  };
}

/**
 * The identifiers an expression reads, without checking them against any columns: for deciding the projection
 * before the source's columns are known. Syntax errors throw `ERR_WAYBILL_EXPRESSION_INVALID`.
 *
 * @example
 * ```ts
 * expressionReferences('[1, 2].exists(x, x == n) && has(m.k)', 'filter'); // ['n', 'm']
 * ```
 */
export function expressionReferences(source: string, where: string): string[] {
  const env = createCelEnvironment();
  const program = parseOrThrow(env, source, where);
  return freeIdentifiers(program.ast, (name) => env.hasVariable(name)).map((r) => r.name);
}

function parseOrThrow(env: Environment, source: string, where: string): ParseResult {
  if (source.trim() === '') {
    throw new WaybillError(
      'ERR_WAYBILL_EXPRESSION_INVALID',
      `The expression in ${where} is empty. Write a CEL expression, e.g. \`status == "active"\`.`,
    );
  }
  try {
    return env.parse(source);
  } catch (err) {
    const e = err as { summary?: unknown; range?: { start?: unknown } };
    const start = typeof e.range?.start === 'number' ? e.range.start : 0;
    const summary = typeof e.summary === 'string' ? e.summary : 'syntax error';
    throw new WaybillError(
      'ERR_WAYBILL_EXPRESSION_INVALID',
      `Invalid expression in ${where} at ${locate(source, start)}: ${summary}.\n${excerpt(source, start)}\n` +
        `Fix the syntax; expressions are CEL (${CEL_DOCS}), e.g. \`country in ["US", "CA"] && total >= 1000\`.`,
      { cause: err },
    );
  }
}

// Evaluation errors of CEL can quote row values (`integer overflow: <value>`, `No such key: <key>`), and row
// values may be personal data. Only summaries that carry nothing but type names are passed on; for the rest a
// fixed description stands in, and the library's error is not attached as `cause`.
const TYPE_ONLY_SUMMARIES = new Set(['no_such_overload', 'no_matching_overload', 'variable_type_mismatch']);
const SAFE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  division_by_zero: 'division by zero',
  modulo_by_zero: 'modulo by zero',
  numeric_overflow: 'integer overflow',
  int_conversion_error: 'int() could not convert the value',
  uint_conversion_error: 'uint() could not convert the value',
  double_conversion_error: 'double() could not convert the value',
  invalid_timestamp: 'timestamp() needs an RFC 3339 string',
  invalid_duration: 'duration() needs a duration string such as "1h30m"',
  invalid_regular_expression: 'invalid regular expression',
  no_such_key: 'no such key',
  index_out_of_range: 'index out of range',
};

function evaluationFailed(
  err: unknown,
  source: string,
  where: string,
  names: readonly string[],
  context: Readonly<Record<string, unknown>>,
): WaybillError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    summary?: unknown;
    range?: { start?: unknown; end?: unknown };
  };
  const code = typeof e.code === 'string' ? e.code : 'unknown';
  const problem =
    TYPE_ONLY_SUMMARIES.has(code) && typeof e.summary === 'string'
      ? e.summary
      : (SAFE_DESCRIPTIONS[code] ?? `evaluation error (${code})`);
  const start = typeof e.range?.start === 'number' ? e.range.start : undefined;
  const end = typeof e.range?.end === 'number' ? e.range.end : undefined;
  const at =
    start === undefined
      ? ''
      : ` at ${locate(source, start)} (\`${clip(source.slice(start, end ?? start + 1))}\`)`;
  const nulls = names.filter((name) => context[name] === null);
  const hint =
    nulls.length > 0
      ? ` In this row ${nulls.map((n) => `"${n}"`).join(', ')} ${nulls.length === 1 ? 'is' : 'are'} null; ` +
        `guard with \`${nulls[0]} != null && …\` or handle null explicitly.`
      : ' Make the expression handle every value the columns can hold.';
  return new WaybillError(
    'ERR_WAYBILL_EXPRESSION_INVALID',
    `The expression in ${where} failed on a row${at}: ${problem} (values are not shown).${hint}`,
  );
}

function cellTypeMismatch(
  where: string,
  name: string,
  type: ExpressionValueType,
  cell: CellValue,
): WaybillError {
  const expected: Record<ExpressionValueType, string> = {
    dyn: 'a value',
    int: 'an integer (a number or a decimal string within 64 bits)',
    double: 'a number or a numeric string',
    string: 'a string',
    bool: 'a boolean',
    timestamp: 'a date or an RFC 3339 timestamp with an offset',
  };
  return new WaybillError(
    'ERR_WAYBILL_EXPRESSION_INVALID',
    `Column "${name}" read by the expression in ${where} is declared ${type}, but a row holds a ` +
      `${typeof cell} that is not ${expected[type]} (the value is not shown). Fix the column's type in the ` +
      `definition, or clean the data.`,
  );
}

/** `line L, column C` (1-based) of a UTF-16 offset. */
function locate(source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}`;
}

/** The source line holding `offset`, with a caret under it. */
function excerpt(source: string, offset: number): string {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = source.indexOf('\n', offset);
  const line = source.slice(lineStart, lineEnd < 0 ? source.length : lineEnd);
  return `  ${line}\n  ${' '.repeat(Math.max(0, offset - lineStart))}^`;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
