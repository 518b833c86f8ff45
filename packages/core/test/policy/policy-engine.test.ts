import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_POLICY_SET,
  POLICY_ACTIONS,
  PolicyEngine,
  WaybillError,
  compilePolicySet,
  countApprovals,
  missingApprovals,
} from '../../src/index.js';
import { parseApprovalsAnnotation, mergeRequirements } from '../../src/policy/approval-requirements.js';

const principal = (id: string, roles: string[]) => ({
  uid: { type: 'Waybill::Principal', id },
  attrs: { workspace: 'default', kind: 'user', name: id },
  parents: roles.map((r) => ({ type: 'Waybill::Role', id: r })),
});

const WORKSPACE_ACTIONS = [
  'definition.apply',
  'audit.read',
  'audit.redact',
  'connection.manage',
  'catalog.manage',
  'policy.manage',
  'keys.rotate',
  'principal.manage',
  'grant.manage',
  'investigation.list',
] as const;

test('the default policy set compiles, validates, and names every policy', async () => {
  const set = await compilePolicySet(DEFAULT_POLICY_SET);
  assert.match(set.version, /^sha256:[0-9a-f]{64}$/);
  assert.ok(set.policies.size >= 15);
  assert.deepEqual(set.policies.get('confidential-data-needs-an-approver')?.approvals, [
    { role: 'approver', count: 1 },
  ]);
  assert.equal(set.policies.get('purpose-limitation')?.noExceptions, true);
  for (const a of WORKSPACE_ACTIONS) assert.ok((POLICY_ACTIONS as readonly string[]).includes(a));
});

test('every workspace-wide action is decidable on the workspace: admins may, requesters may not', async () => {
  const engine = await PolicyEngine.create(await compilePolicySet(DEFAULT_POLICY_SET));
  for (const action of WORKSPACE_ACTIONS) {
    for (const [who, roles, expected] of [
      ['root', ['admin'], 'allow'],
      ['alice', ['requester'], 'deny'],
    ] as const) {
      const d = engine.decide({
        principal: { type: 'Waybill::Principal', id: who },
        action,
        resource: { type: 'Waybill::Workspace', id: 'default' },
        context: {},
        entities: [principal(who, [...roles])],
      });
      assert.equal(d.decision, expected, `${who} ${action}`);
    }
  }
  const sec = engine.decide({
    principal: { type: 'Waybill::Principal', id: 's' },
    action: 'audit.read',
    resource: { type: 'Waybill::Workspace', id: 'default' },
    context: {},
    entities: [principal('s', ['security'])],
  });
  assert.deepEqual(sec.policyIds, ['security-reads-the-audit-log']);
});

test('a malformed question is an internal error, never an allow', async () => {
  const engine = await PolicyEngine.create(await compilePolicySet(DEFAULT_POLICY_SET));
  assert.throws(
    () =>
      engine.decide({
        principal: { type: 'Waybill::Principal', id: 'root' },
        action: 'export.request',
        resource: { type: 'Waybill::Workspace', id: 'default' },
        context: {},
        entities: [principal('root', ['admin'])],
      }),
    (e: unknown) => e instanceof WaybillError && e.code === 'ERR_WAYBILL_INTERNAL',
  );
});

test('policy sets without ids, with duplicate ids, templates or bad annotations are refused', async () => {
  const cases: [string, RegExp][] = [
    ['permit (principal, action, resource);', /needs an @id/],
    ['@id("A b")\npermit (principal, action, resource);', /needs an @id/],
    [
      '@id("x")\npermit (principal, action, resource);\n@id("x")\nforbid (principal, action, resource);',
      /used twice/,
    ],
    ['@id("t")\npermit (principal == ?principal, action, resource);', /templates/],
    [
      '@id("p")\n@approvals("approver:1")\npermit (principal, action, resource);',
      /only makes sense on a forbid/,
    ],
    ['@id("f")\n@approvals("boss:1")\nforbid (principal, action, resource);', /role:count pairs/],
    ['@id("f")\n@exceptions("sometimes")\nforbid (principal, action, resource);', /only takes "never"/],
    ['@id("f")\npermit (principal, action == Waybill::Action::"export.fly", resource);', /does not validate/],
    ['this is not cedar', /does not parse/],
  ];
  for (const [text, message] of cases) {
    await assert.rejects(compilePolicySet(text), (e: unknown) => {
      assert.ok(e instanceof WaybillError && e.code === 'ERR_WAYBILL_POLICY_INVALID', text);
      assert.match((e as Error).message, message, text);
      return true;
    });
  }
});

test('approval requirements: parsing, merging, counting (expired, other version, twice, rejections do not count)', () => {
  assert.deepEqual(parseApprovalsAnnotation('security:1, any:2', 'p'), [
    { role: 'security', count: 1 },
    { role: 'any', count: 2 },
  ]);
  assert.deepEqual(
    mergeRequirements([
      [{ role: 'approver', count: 1 }],
      [
        { role: 'approver', count: 2 },
        { role: 'security', count: 1 },
      ],
    ]),
    [
      { role: 'approver', count: 2 },
      { role: 'security', count: 1 },
    ],
  );
  const base = {
    exportId: 'e',
    workspace: 'default',
    reason: 'r',
    definitionVersion: 'v1',
    createdAt: '2026-11-29T00:00:00Z',
    expiresAt: '2026-11-30T00:00:00Z',
    round: 1,
  };
  const now = new Date('2026-11-29T12:00:00Z');
  const counts = countApprovals(
    [
      { ...base, id: '1', approverId: 'bob', decision: 'approve', roles: ['approver'] },
      { ...base, id: '2', approverId: 'bob', decision: 'approve', roles: ['approver'] },
      { ...base, id: '3', approverId: 'sec', decision: 'approve', roles: ['security', 'approver'] },
      {
        ...base,
        id: '4',
        approverId: 'old',
        decision: 'approve',
        roles: ['approver'],
        expiresAt: '2026-11-29T11:00:00Z',
      },
      {
        ...base,
        id: '5',
        approverId: 'v0',
        decision: 'approve',
        roles: ['approver'],
        definitionVersion: 'v0',
      },
      { ...base, id: '6', approverId: 'no', decision: 'reject', roles: ['approver'] },
    ],
    'v1',
    now,
  );
  assert.deepEqual(counts, { total: 2, approver: 2, security: 1, admin: 0 });
  assert.deepEqual(missingApprovals([{ role: 'any', count: 3 }], counts), [
    '1 more approval by anyone who may approve',
  ]);
  assert.deepEqual(missingApprovals([{ role: 'security', count: 1 }], counts), []);
});
