/**
 * One export being written to a destination. Everything goes to a temporary location first; `commit`
 * makes it visible at once (rename / completion marker), `abort` removes whatever was written.
 */
export interface DestinationWrite {
  /** Where the export will be visible once committed (a directory path, an object prefix, a URL). */
  readonly location: string;
  /** Writes one file of the export from a stream of bytes. Resolves once the bytes are durable. */
  writeFile(name: string, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<void>;
  /**
   * Optional: writes one file of the export as a copy of the local file `from`, with the same result
   * as `writeFile` of its bytes (resolves once durable). A destination on the local file system lets the
   * kernel copy, instead of the bytes passing through the process; without it, callers stream `from`.
   */
  copyFrom?(name: string, from: string): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A place exports go to. */
export interface Destination {
  readonly kind: string;
  /** Starts an export at `path` (relative, already validated: no `..`, no absolute paths). */
  begin(path: string, options: { runId: string; signal?: AbortSignal }): Promise<DestinationWrite>;
  /**
   * Removes what an interrupted run left at `path` (its temporary location), if anything. Never touches
   * a committed export. Used when a run whose process died is rolled back.
   */
  discard?(path: string, options: { runId: string }): Promise<void>;
  /**
   * The SHA-256 (hex) of file `name` of the export committed at `path`, or null when nothing is
   * committed there. Lets recovery tell a run that was released just before its process died from one
   * that was not.
   */
  committedDigest?(path: string, name: string): Promise<string | null>;
}
