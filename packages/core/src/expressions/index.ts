export { compileExpression, expressionReferences } from './cel-expression.js';
export { expressionValueTypes } from './cel-values.js';

export type {
  CompileExpressionOptions,
  CompiledExpression,
  ExpressionPurpose,
  ExpressionVariable,
} from './cel-expression.js';
export type { ExpressionValueType } from './cel-values.js';
