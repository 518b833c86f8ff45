import { Environment } from '@marcbachmann/cel-js';

let base: Environment | undefined;

/**
 * A fresh CEL environment for one expression, cloned from a shared base (building an environment is the
 * expensive part; cloning is cheap).
 *
 * The base adds mixed `int`/`double` arithmetic (`+ - * /`, result `double`) to standard CEL. Sources hand over
 * JSON numbers, so one column can hold `1500` (an int in CEL) in one row and `1500.5` (a double) in the next;
 * without these overloads `lifetime_value * 1.1` would work on one row and fail on the other. Comparisons between
 * int and double are already heterogeneous in the library. `%` stays int-only, as in CEL.
 */
export function createCelEnvironment(): Environment {
  base ??= buildBase();
  return base.clone();
}

function buildBase(): Environment {
  const env = new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: false });
  env
    .registerOperator('int + double', (a: bigint, b: number) => Number(a) + b)
    .registerOperator('double + int', (a: number, b: bigint) => a + Number(b))
    .registerOperator('int - double', (a: bigint, b: number) => Number(a) - b)
    .registerOperator('double - int', (a: number, b: bigint) => a - Number(b))
    .registerOperator('int * double', (a: bigint, b: number) => Number(a) * b)
    .registerOperator('double * int', (a: number, b: bigint) => a * Number(b))
    .registerOperator('int / double', (a: bigint, b: number) => Number(a) / b)
    .registerOperator('double / int', (a: number, b: bigint) => a / Number(b));
  return env;
}
