import type { EntityJson, EntityUid } from '@cedar-policy/cedar-wasm/nodejs';
import { sensitivities } from '../definitions/export-definition-schema.js';
import type {
  Caller,
  DefinitionVersionRecord,
  ExportRequestRecord,
  FieldClassification,
} from '../ports/store.js';

/** The Cedar uid of a principal. */
export function principalUid(id: string): { type: string; id: string } {
  return { type: 'Waybill::Principal', id };
}

export function principalEntity(p: Caller): EntityJson {
  return {
    uid: principalUid(p.id),
    attrs: { workspace: p.workspace, kind: p.kind, name: p.name },
    parents: p.roles.map((r) => ({ type: 'Waybill::Role', id: r })),
  };
}

export function workspaceUid(workspace: string): EntityUid {
  return { type: 'Waybill::Workspace', id: workspace };
}

/**
 * The highest classification of a definition's emitted fields: what the definition declares, and what
 * the catalog says of the column a field reads (the higher wins); an unclassified field counts as internal.
 */
export function definitionSensitivity(
  def: DefinitionVersionRecord,
  catalog: Readonly<Record<string, FieldClassification>> = {},
): (typeof sensitivities)[number] {
  let rank = 0;
  for (const f of def.body.fields) {
    if (f.transform?.type === 'drop') continue;
    rank = Math.max(rank, sensitivities.indexOf(f.classification ?? 'internal'));
    const c = f.from !== undefined ? catalog[f.from] : undefined;
    if (c) rank = Math.max(rank, sensitivities.indexOf(c.sensitivity));
  }
  return sensitivities[rank]!;
}

export function definitionUid(def: Pick<DefinitionVersionRecord, 'name' | 'version'>): {
  type: string;
  id: string;
} {
  return { type: 'Waybill::Definition', id: `${def.name}@${def.version}` };
}

export function definitionEntity(
  def: DefinitionVersionRecord,
  catalog: Readonly<Record<string, FieldClassification>> = {},
): EntityJson {
  const classes = new Set(
    def.body.fields.flatMap((f) => [
      f.classification ?? 'internal',
      ...(f.from !== undefined && catalog[f.from] ? [catalog[f.from]!.sensitivity] : []),
    ]),
  );
  return {
    uid: definitionUid(def),
    attrs: {
      workspace: def.workspace,
      name: def.name,
      owner: def.body.owner,
      purposes: [...def.body.purposes],
      sensitivity: definitionSensitivity(def, catalog),
      classifications: [...classes].sort(),
      destination: def.body.destination.connection,
    },
    parents: [],
  };
}

export function exportUid(id: string): EntityUid {
  return { type: 'Waybill::Export', id };
}

export function exportEntity(req: ExportRequestRecord, def: DefinitionVersionRecord): EntityJson {
  return {
    uid: exportUid(req.id),
    attrs: {
      workspace: req.workspace,
      requester: { __entity: principalUid(req.requesterId) },
      definition: { __entity: definitionUid(def) },
      purpose: req.purpose,
      kind: req.kind,
    },
    parents: [],
  };
}
