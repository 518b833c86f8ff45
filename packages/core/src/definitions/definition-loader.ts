import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { WaybillError, wrapError } from '@waybill/verify';
import { exportDefinitionSchema, type ExportDefinition } from './export-definition-schema.js';

const MAX_DEFINITION_CHARS = 1024 * 1024;

/** One problem in a definition file, located as precisely as the YAML allows. */
export interface DefinitionProblem {
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** Thrown for an invalid definition: every problem found, each naming file, path and what is wrong. */
export class DefinitionInvalidError extends WaybillError {
  readonly problems: readonly DefinitionProblem[];
  constructor(file: string, problems: readonly DefinitionProblem[]) {
    const first = problems[0];
    const where = first ? `${file}${first.line ? `:${first.line}:${first.column ?? 1}` : ''}` : file;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem(s))` : '';
    super(
      'ERR_WAYBILL_DEFINITION_INVALID',
      first
        ? `${where}: ${first.path || '(top level)'}: ${first.message}${more}`
        : `${file}: invalid definition`,
    );
    this.problems = problems;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s;
}

/** Parses and validates definition YAML text. `file` names the input in messages. */
export function parseDefinition(text: string, file = '<definition>'): ExportDefinition {
  if (text.length > MAX_DEFINITION_CHARS) {
    throw new DefinitionInvalidError(file, [
      {
        path: '',
        message: `is ${text.length} characters long; a definition is at most ${MAX_DEFINITION_CHARS}`,
      },
    ]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new DefinitionInvalidError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          path: '',
          line: pos.line,
          column: pos.col,
          message: `YAML syntax: ${e.message.split('\n')[0]}`,
        };
      }),
    );
  }
  let data: unknown;
  try {
    // maxAliasCount bounds alias expansion ("billion laughs"): a definition is small, plain data.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new DefinitionInvalidError(file, [{ path: '', message: `YAML: ${(err as Error).message}` }]);
  }
  const result = exportDefinitionSchema.safeParse(data);
  if (result.success) return result.data;
  throw new DefinitionInvalidError(
    file,
    result.error.issues.map((issue: z.core.$ZodIssue) => {
      // Point at the deepest node that exists for this path.
      let node: unknown;
      for (let n = issue.path.length; n >= 0 && !node; n--) {
        node = doc.getIn(issue.path.slice(0, n) as (string | number)[], true);
        if (!isNode(node)) node = undefined;
      }
      const range = isNode(node) ? node.range : undefined;
      const pos = range ? lineCounter.linePos(range[0]) : undefined;
      return {
        path: formatPath(issue.path),
        ...(pos ? { line: pos.line, column: pos.col } : {}),
        message: issue.message,
      };
    }),
  );
}

/** Reads and validates a definition file. */
export async function loadDefinitionFile(
  file: string,
): Promise<{ definition: ExportDefinition; text: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw wrapError(
      err,
      'ERR_WAYBILL_INVALID_INPUT',
      `cannot read definition file ${file}: ${(err as Error).message}`,
    );
  }
  return { definition: parseDefinition(text, file), text };
}
