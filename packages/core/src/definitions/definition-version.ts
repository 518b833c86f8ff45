import { canonicalDigest } from '../json/canonical-json.js';
import type { ExportDefinition } from './export-definition-schema.js';

/**
 * The immutable version id of a definition: `sha256:<hex>` of the RFC 8785 canonical JSON of the
 * validated definition (defaults filled in), so formatting and key order do not make a new version.
 */
export function definitionVersion(definition: ExportDefinition): string {
  return canonicalDigest(definition);
}
