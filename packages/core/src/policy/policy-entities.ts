import type { EntityJson, EntityUid } from '@cedar-policy/cedar-wasm/nodejs';
import { sensitivities } from '../definitions/export-definition-schema.js';
import type { Caller, DefinitionVersionRecord, ExportRequestRecord } from '../ports/store.js';

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

/** The highest classification declared on a definition's fields; an unclassified field counts as internal. */
export function definitionSensitivity(def: DefinitionVersionRecord): (typeof sensitivities)[number] {
  let rank = 0;
  for (const f of def.body.fields) {
    if (f.transform?.type === 'drop') continue;
    rank = Math.max(rank, sensitivities.indexOf(f.classification ?? 'internal'));
  }
  return sensitivities[rank]!;
}

export function definitionUid(def: Pick<DefinitionVersionRecord, 'name' | 'version'>): {
  type: string;
  id: string;
} {
  return { type: 'Waybill::Definition', id: `${def.name}@${def.version}` };
}

export function definitionEntity(def: DefinitionVersionRecord): EntityJson {
  const classes = new Set(def.body.fields.map((f) => f.classification ?? 'internal'));
  return {
    uid: definitionUid(def),
    attrs: {
      workspace: def.workspace,
      name: def.name,
      owner: def.body.owner,
      purposes: [...def.body.purposes],
      sensitivity: definitionSensitivity(def),
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
