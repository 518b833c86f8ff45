import { WaybillError } from '@waybill/verify';

const placeholders = ['name', 'runId', 'date', 'purpose'] as const;
export type PathVariables = Record<(typeof placeholders)[number], string>;

/** Checks a destination path template: known placeholders only, relative, no `..`. */
export function checkPathTemplate(template: string, where = 'destination.path'): void {
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(placeholders as readonly string[]).includes(m[1]!)) {
      throw new WaybillError(
        'ERR_WAYBILL_DEFINITION_INVALID',
        `${where}: unknown placeholder {${m[1]}}; use ${placeholders.map((p) => `{${p}}`).join(', ')}`,
      );
    }
  }
  checkRelativePath(template.replace(/\{[^}]*\}/g, 'x'), where);
}

export function checkRelativePath(path: string, where: string): void {
  if (path.startsWith('/') || path.includes('\\') || path.includes('\0') || /^[A-Za-z]:/.test(path)) {
    throw new WaybillError(
      'ERR_WAYBILL_DEFINITION_INVALID',
      `${where}: must be a relative path with / separators`,
    );
  }
  if (path.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new WaybillError(
      'ERR_WAYBILL_DEFINITION_INVALID',
      `${where}: must not contain empty, "." or ".." segments`,
    );
  }
}

export function renderPathTemplate(template: string, vars: PathVariables): string {
  const path = template.replace(/\{([^}]*)\}/g, (_, k: string) => vars[k as keyof PathVariables]);
  checkRelativePath(path, 'destination.path');
  return path;
}
