import type { ASTNode } from '@marcbachmann/cel-js';

/** One free identifier of an expression and where it first occurs in the source. */
export interface IdentifierReference {
  readonly name: string;
  /** UTF-16 offsets into the expression source. */
  readonly start: number;
  readonly end: number;
}

/** Macros whose first argument names an iteration variable bound in the remaining arguments. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

/**
 * The free identifiers of a parsed CEL expression, in order of first occurrence, without duplicates. Variables
 * bound by comprehension macros (`list.all(x, …)`, `map`, `filter`, `exists`, `exists_one`) and by
 * `cel.bind(x, init, body)` are not free inside their scope; `has(a.b)` reads `a`. Identifiers for which
 * `isBuiltin` returns true (e.g. the `cel` namespace) are skipped.
 */
export function freeIdentifiers(ast: ASTNode, isBuiltin: (name: string) => boolean): IdentifierReference[] {
  const found = new Map<string, IdentifierReference>();
  const bound: string[] = [];

  const visit = (node: ASTNode): void => {
    switch (node.op) {
      case 'value':
        return;
      case 'id': {
        const name = node.args;
        if (bound.includes(name) || found.has(name) || isBuiltin(name)) return;
        found.set(name, { name, start: node.range.start, end: node.range.end });
        return;
      }
      case '.':
      case '.?':
        visit(node.args[0]);
        return;
      case '!_':
      case '-_':
        visit(node.args);
        return;
      case '?:':
        for (const child of node.args) visit(child);
        return;
      case 'list':
        for (const child of node.args) visit(child);
        return;
      case 'map':
        for (const [key, value] of node.args) {
          visit(key);
          visit(value);
        }
        return;
      case 'call':
        for (const child of node.args[1]) visit(child);
        return;
      case 'rcall': {
        const [name, receiver, args] = node.args;
        const [first, ...rest] = args;
        if (
          name === 'bind' &&
          receiver.op === 'id' &&
          receiver.args === 'cel' &&
          first?.op === 'id' &&
          rest.length === 2
        ) {
          const [init, body] = rest as [ASTNode, ASTNode];
          visit(init);
          withBound(first.args, () => visit(body));
          return;
        }
        visit(receiver);
        if (COMPREHENSIONS.has(name) && first?.op === 'id' && rest.length >= 1) {
          withBound(first.args, () => rest.forEach(visit));
          return;
        }
        for (const child of args) visit(child);
        return;
      }
      default:
        // Binary operators, `[]`, `[?]`, `&&`, `||`: two operands.
        visit(node.args[0]);
        visit(node.args[1]);
    }
  };

  const withBound = (name: string, body: () => void): void => {
    bound.push(name);
    try {
      body();
    } finally {
      bound.pop();
    }
  };

  visit(ast);
  return [...found.values()];
}
