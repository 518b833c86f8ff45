import type { HmacKey, TransformContext } from '../../src/transforms/index.js';

/** A key ring fixture: named keys with fixed secrets, as a real key ring would return them. */
export function keyRing(keys: Record<string, HmacKey>): TransformContext {
  return {
    hmacKey(name: string): HmacKey {
      const key = keys[name];
      if (key === undefined) throw new Error(`no key ${name}`);
      return key;
    },
  };
}

/** A context for transforms that need no keys. */
export const noKeys: TransformContext = keyRing({});
