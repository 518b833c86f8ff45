/**
 * Values read once per key (an app's table list, a table's fields) and shared by concurrent callers. A
 * read that fails is forgotten, so the next call asks the app again instead of repeating the failure.
 *
 * @example
 * ```ts
 * const fields = new OnceCache<string, Field[]>();
 * const f = await fields.get('customers', () => client.getJson(url, signal).then(parseFields));
 * ```
 */
export class OnceCache<K, V> {
  readonly #entries = new Map<K, Promise<V>>();

  get(key: K, load: () => Promise<V>): Promise<V> {
    let p = this.#entries.get(key);
    if (!p) {
      const loading = load();
      p = loading;
      this.#entries.set(key, loading);
      // Only this read is forgotten, never one that replaced it meanwhile.
      loading.catch(() => {
        if (this.#entries.get(key) === loading) this.#entries.delete(key);
      });
    }
    return p;
  }
}
