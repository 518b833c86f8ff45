/** The names of every function and method an expression calls, from its AST. */
export function calledFunctions(ast: unknown): Set<string> {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const { op, args } = node as { op?: unknown; args?: unknown };
    if ((op === 'call' || op === 'rcall') && Array.isArray(args) && typeof args[0] === 'string') {
      names.add(args[0]);
      visit(args.slice(1));
      return;
    }
    visit(args);
  };
  visit(ast);
  return names;
}
