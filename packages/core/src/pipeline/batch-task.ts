import type { ExportDefinition } from '../definitions/export-definition-schema.js';
import type { CellValue, RowCodec, SourceColumn } from '../ports/source.js';
import type { ExportFormat } from './batch-processor.js';
import type { TokenVaultEntry } from '../transforms/index.js';
import type { PolicyRowFilter } from '../policy/row-filters.js';

/** What a batch worker needs to compile the same plan as the main thread. Stays in memory only. */
export interface WorkerInit {
  readonly definition: ExportDefinition;
  readonly columns: readonly SourceColumn[];
  readonly format: ExportFormat;
  readonly hmacKeys: readonly { name: string; keyId: string; secret: Uint8Array }[];
  /** How encoded blocks are decoded, when the source hands over encoded rows. */
  readonly codec: RowCodec | null;
  /** Output fields whose values the output PII scan checks (the validation gate `output-pii-scan`). */
  readonly piiScan?: readonly string[];
  /** k-anonymity: the quasi-identifier combinations whose records are suppressed (not written). */
  readonly suppress?: readonly string[];
  /** Row filters the policy put on this run. */
  readonly rowFilters?: readonly PolicyRowFilter[];
}

/** One batch: decoded rows, or an encoded block of whole rows. */
export interface BatchTask {
  readonly seq: number;
  readonly firstRowNumber: number;
  readonly rows?: CellValue[][];
  readonly block?: Uint8Array;
  /**
   * The output buffer of an earlier batch, handed back once written: the reply's payload, records and
   * leaf hashes are written into it when they fit (see `BatchProcessor.processPacked`).
   */
  readonly spare?: ArrayBuffer;
}

export type BatchReply =
  | {
      readonly seq: number;
      readonly ok: true;
      /** Payload, records and leaf hashes are views into one ArrayBuffer, which the reply transfers. */
      readonly payload: Uint8Array;
      readonly records: Uint8Array;
      readonly recordsFinal: boolean;
      readonly leafHashes: Uint8Array;
      readonly read: number;
      readonly filtered: number;
      /** Rows not written because k-anonymity suppresses their combination. */
      readonly suppressed: number;
      readonly written: number;
      readonly typeChecked: number;
      readonly piiScanned: number;
      /** Records per combination of quasi-identifier values (k-anonymity), when the definition declares them. */
      readonly classes: readonly (readonly [string, number])[];
      /** Token-vault entries made in this batch, for the main thread to store. */
      readonly vault: readonly TokenVaultEntry[];
    }
  | { readonly seq: number; readonly ok: false; readonly code: string; readonly message: string };
