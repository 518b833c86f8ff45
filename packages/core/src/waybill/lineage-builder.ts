import type { ExportPredicate } from './export-predicate.js';
import { EXPORT_PREDICATE_TYPE } from './export-predicate.js';

const PRODUCER = 'https://github.com/waybill-dev/waybill/tree/v0.1.0';
const OL = 'https://openlineage.io/spec';
const facet = (schema: string) => ({ _producer: PRODUCER, _schemaURL: schema });

export interface LineageInput {
  readonly predicate: Omit<ExportPredicate, 'signingKeyId' | 'timestamps'> & {
    timestamps: { signed: string };
  };
  readonly payloadName: string;
  readonly payloadBytes: number;
  /** OpenLineage namespace of the source: `<kind>://<connection name>`, e.g. `sqlite://demo-crm`. */
  readonly sourceNamespace: string;
  readonly destinationNamespace: string;
}

/**
 * The OpenLineage 2-0-2 RunEvent (COMPLETE) that travels with every export: schema, column lineage
 * (DIRECT/IDENTITY for copies, DIRECT/TRANSFORMATION with `masking: true` for masked fields,
 * INDIRECT/FILTER for the row filter), output statistics, data source, ownership and classification
 * tags. The `waybill_attestation` run facet points at the envelope (which in turn signs this file's
 * digest, so this file cannot carry the envelope's digest).
 */
export function buildLineage(input: LineageInput): Record<string, unknown> {
  const p = input.predicate;
  const inputNs = input.sourceNamespace;
  const emitted = p.fields.filter((f) => f.emitted);
  const columnFields: Record<string, unknown> = {};
  for (const f of emitted) {
    const masking = f.transform !== null && f.transform['type'] !== 'keep';
    const description = f.computed
      ? `CEL: ${f.computed.expression}${f.transform ? `; then ${String(f.transform['type'])}` : ''}`
      : f.transform
        ? String(f.transform['type'])
        : 'copied';
    const input = (table: string, field: string, type: string, subtype: string, what: string) => ({
      namespace: inputNs,
      name: table,
      field,
      transformations: [{ type, subtype, description: what, masking }],
    });
    const fromApp = (f.sourceLogic ?? []).flatMap((l) => {
      // The app computes the origin column itself: its logic travels with the data.
      switch (l.kind) {
        case 'formula':
          return (l.references ?? []).map((r) =>
            input(
              p.source.table,
              r,
              'DIRECT',
              'TRANSFORMATION',
              `formula of ${l.column}: ${l.expression ?? ''}`,
            ),
          );
        case 'lookup':
        case 'rollup': {
          const out = [];
          if (l.linkedTable && l.linkedColumn) {
            out.push(
              input(
                l.linkedTable,
                l.linkedColumn,
                'DIRECT',
                l.kind === 'lookup' ? 'IDENTITY' : 'AGGREGATION',
                l.kind === 'lookup'
                  ? `lookup of ${l.column} through ${l.via ?? 'a link field'}`
                  : `rollup of ${l.column} through ${l.via ?? 'a link field'}: ${l.expression ?? ''}`,
              ),
            );
          }
          if (l.via) out.push(input(p.source.table, l.via, 'INDIRECT', 'JOIN', `link field of ${l.column}`));
          return out;
        }
      }
    });
    columnFields[f.name] = {
      inputFields: [
        ...f.origin.map((field) =>
          input(
            p.source.table,
            field,
            'DIRECT',
            f.computed || masking ? 'TRANSFORMATION' : 'IDENTITY',
            description,
          ),
        ),
        ...fromApp,
      ],
    };
  }
  const filterInputs = p.filter
    ? p.filter.references.map((field) => ({
        namespace: inputNs,
        name: p.source.table,
        field,
        transformations: [
          {
            type: 'INDIRECT',
            subtype: 'FILTER',
            description: `CEL: ${p.filter!.expression}`,
            masking: false,
          },
        ],
      }))
    : [];
  const tags = [
    ...emitted
      .filter((f) => f.classification)
      .map((f) => ({ key: 'classification', value: f.classification!, source: 'USER', field: f.name })),
    ...emitted
      .filter((f) => f.piiKind)
      .map((f) => ({ key: 'pii', value: f.piiKind!, source: 'USER', field: f.name })),
  ];
  const owners = [{ name: ownerUrn(p.definition.owner), type: 'OWNER' }];
  return {
    eventType: 'COMPLETE',
    eventTime: p.timestamps.signed,
    producer: PRODUCER,
    schemaURL: `${OL}/2-0-2/OpenLineage.json#/$defs/RunEvent`,
    run: {
      runId: p.runId,
      facets: {
        waybill_attestation: {
          ...facet('https://waybill.dev/spec/facets/1-0-0/WaybillAttestationRunFacet.json'),
          envelope: 'waybill.intoto.jsonl',
          predicateType: EXPORT_PREDICATE_TYPE,
          runId: p.runId,
          recordsMerkleRoot: p.records.merkleRoot,
          definitionVersion: p.definition.version,
        },
      },
    },
    job: {
      namespace: 'waybill',
      name: p.definition.name,
      facets: {
        ownership: { ...facet(`${OL}/facets/1-0-1/OwnershipJobFacet.json#/$defs/OwnershipJobFacet`), owners },
      },
    },
    inputs: [
      {
        namespace: inputNs,
        name: p.source.table,
        facets: {
          dataSource: {
            ...facet(`${OL}/facets/1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet`),
            name: p.source.connection,
            uri: inputNs,
          },
        },
      },
    ],
    outputs: [
      {
        namespace: input.destinationNamespace,
        name: `${p.destination.location}/${input.payloadName}`,
        facets: {
          schema: {
            ...facet(`${OL}/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet`),
            fields: emitted.map((f, i) => ({
              name: f.name,
              type: f.declaredType ?? f.sourceType ?? 'string',
              ordinal_position: i + 1,
            })),
          },
          columnLineage: {
            ...facet(`${OL}/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet`),
            fields: columnFields,
            ...(filterInputs.length ? { dataset: filterInputs } : {}),
          },
          ownership: {
            ...facet(`${OL}/facets/1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet`),
            owners,
          },
          tags: { ...facet(`${OL}/facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet`), tags },
        },
        outputFacets: {
          outputStatistics: {
            ...facet(
              `${OL}/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet`,
            ),
            rowCount: p.counts.written,
            size: input.payloadBytes,
            fileCount: 1,
          },
        },
      },
    ],
  };
}

function ownerUrn(owner: string): string {
  return owner.includes(':') ? owner : owner.includes('@') ? `user:${owner}` : `team:${owner}`;
}
