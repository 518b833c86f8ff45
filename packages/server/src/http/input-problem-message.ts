import type { z } from 'zod';

const shownProblems = 3;

/** `['items', 0, 'name']` under `body` → `body.items[0].name`. */
function pathOf(where: string, path: readonly PropertyKey[]): string {
  let out = where;
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  }
  return out;
}

/**
 * The message of an `ERR_WAYBILL_INVALID_INPUT` answer for a request part that failed its zod schema:
 * each problem as `PATH: what is wrong` (`body.purpose: expected string, received number`), the first
 * three of them, then how many more. zod's messages name types and constraints, never the value sent, so
 * nothing the client sent (a secret, personal data) is echoed back or logged.
 *
 * @example
 * ```ts
 * describeInputProblem('body', result.error); // 'body.purpose: expected string, received number'
 * ```
 */
export function describeInputProblem(where: 'body' | 'params' | 'query', error: z.ZodError): string {
  const problems = error.issues.map((issue) => {
    const message = issue.message.replace(/^Invalid input: /, '');
    return `${pathOf(where, issue.path)}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
  });
  const more = problems.length - shownProblems;
  const shown = problems.slice(0, shownProblems).join('; ');
  return more > 0 ? `${shown}; and ${more} more problem${more === 1 ? '' : 's'}` : shown;
}
