// Who may export what: requests, approvals, grants, exceptions, investigations and policy changes,
// through the same services the CLI and the server use, on a real home (SQLite store, real Cedar).
// Attack tests are named after the attack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_POLICY_SET,
  WaybillError,
  createServices,
  type PrincipalRecord,
  type Services,
} from '@waybill/core';
import { connectionOpener } from '../src/connection-opener.js';
import { openHome, type HomeContext } from '../src/home.js';
import { cli, tempHome } from './cli-harness.js';

let t: Awaited<ReturnType<typeof tempHome>>;
let h: HomeContext;
let s: Services;
let now = Date.parse('2026-11-29T12:00:00Z');
const clock = { now: () => new Date(now) };
const people: Record<string, PrincipalRecord> = {};
const keys: Record<string, string> = {};

const definition = (extraField = '') => `apiVersion: waybill/v1
kind: ExportDefinition
name: people
owner: team:data
purposes: [support]
source: { connection: people, table: people }
fields:
  - { name: id, from: id, classification: internal }
  - { name: email, from: email, transform: mask_email, classification: confidential }
${extraField}destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`;

const plain = `apiVersion: waybill/v1
kind: ExportDefinition
name: ids
owner: team:data
purposes: [support]
source: { connection: people, table: people }
fields:
  - { name: id, from: id, classification: internal }
destination: { connection: out, path: '{name}/{runId}' }
format: ndjson
retention: P7D
`;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WaybillError) return e.code;
    throw e;
  }
  return 'resolved';
}

async function auditTypes(): Promise<
  { type: string; actor: string; workspace: string; details: Record<string, unknown> }[]
> {
  const r = await cli(['--home', t.home, 'audit', 'search', '--limit', '1000', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    entries: {
      event: { type: string; actor: string; workspace: string; details: Record<string, unknown> };
    }[];
  };
  return out.entries.map((e) => e.event);
}

before(async () => {
  t = await tempHome();
  assert.equal((await cli(['--home', t.home, 'init'])).code, 0);
  await mkdir(join(t.dir, 'out'));
  await writeFile(join(t.dir, 'people.csv'), 'id,email\n1,ann@example.com\n2,bo@example.org\n');
  for (const [role, name, kind, path] of [
    ['source', 'people', 'csv', join(t.dir, 'people.csv')],
    ['destination', 'out', 'directory', join(t.dir, 'out')],
  ] as const) {
    const r = await cli(['--home', t.home, role, 'add', name, '--kind', kind, '--path', path]);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const [file, text] of [
    ['people.yaml', definition()],
    ['ids.yaml', plain],
  ] as const) {
    await writeFile(join(t.dir, file), text);
    assert.equal((await cli(['--home', t.home, 'def', 'apply', join(t.dir, file)])).code, 0);
  }
  h = await openHome(t.home, {});
  s = createServices({ ...h, clock, connections: connectionOpener, stagingRoot: join(t.home, 'staging') });
  people['admin'] = h.principal;
  for (const [name, roles] of [
    ['alice', ['requester']],
    ['bob', ['approver']],
    ['carol', ['approver']],
    ['sec1', ['security']],
    ['sec2', ['security']],
    ['vic', ['viewer']],
  ] as const) {
    const c = await s.principals.create(h.principal, { name, roles: [...roles] });
    people[name] = c.principal;
    keys[name] = c.apiKey;
  }
});
after(async () => {
  await h?.close();
  await t.cleanup();
});

const p = (name: string): PrincipalRecord => people[name]!;

test('a confidential definition needs one approver; an internal one is approved by policy at once', async () => {
  const v = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  assert.equal(v.request.status, 'pending_approval');
  assert.deepEqual(v.request.requirements, [{ role: 'approver', count: 1 }]);
  assert.deepEqual(v.request.decision.policyIds, ['confidential-data-needs-an-approver']);
  assert.match(v.request.reasons.join(), /1 more approval by someone with the approver role/);

  const plainRequest = await s.requests.request(p('alice'), { definition: 'ids', purpose: 'support' });
  assert.equal(plainRequest.request.status, 'approved');
  assert.deepEqual(plainRequest.request.decision.policyIds, ['requesters-run-their-exports']);

  const approved = await s.requests.decide(p('bob'), v.request.id, {
    decision: 'approve',
    reason: 'ticket 42',
  });
  assert.equal(approved.request.status, 'approved');
  const prepared = await s.requests.prepareRun(p('alice'), v.request.id);
  const result = await prepared.execute({ workers: 0 });
  assert.equal(result.run.status, 'sealed');
  assert.equal(result.predicate.approvals.length, 1);
  assert.equal(result.predicate.approvals[0]!.approver, 'user:bob');
  assert.deepEqual(result.predicate.policy.policyIds, ['requesters-run-their-exports']);
  assert.equal(result.predicate.policy.exportId, v.request.id);
  const after = await s.requests.get(p('alice'), v.request.id);
  assert.equal(after.request.status, 'completed');
  assert.equal(after.request.runId, result.run.id);
  // Running it twice is refused: it is completed, not approved.
  assert.equal(await code(s.requests.prepareRun(p('alice'), v.request.id)), 'ERR_WAYBILL_NOT_APPROVED');
});

test('self-approval is refused and audited', async () => {
  const c = await s.principals.create(h.principal, { name: 'dual', roles: ['requester', 'approver'] });
  const v = await s.requests.request(c.principal, { definition: 'people', purpose: 'support' });
  assert.equal(
    await code(s.requests.decide(c.principal, v.request.id, { decision: 'approve', reason: 'mine' })),
    'ERR_WAYBILL_FORBIDDEN',
  );
  assert.equal((await s.requests.get(c.principal, v.request.id)).request.status, 'pending_approval');
  const denied = (await auditTypes()).filter((e) => e.type === 'access.denied' && e.actor === 'user:dual');
  assert.match(String(denied.at(-1)?.details['reason']), /own request/);
});

test('double approval by one person is refused: nobody counts twice', async () => {
  // The exception needs security + one more: the same security officer cannot be both.
  const v = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  await s.requests.decide(p('bob'), v.request.id, { decision: 'approve', reason: 'ok' });
  const again = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  await s.requests.decide(p('carol'), again.request.id, { decision: 'reject', reason: 'not now' });
  assert.equal(
    await code(
      s.requests.decide(p('carol'), again.request.id, { decision: 'approve', reason: 'changed my mind' }),
    ),
    'ERR_WAYBILL_FORBIDDEN',
  );
  assert.equal((await s.requests.get(p('alice'), again.request.id)).request.status, 'rejected');
});

test('approval by a viewer (or a requester) is refused', async () => {
  const v = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  assert.equal(
    await code(s.requests.decide(p('vic'), v.request.id, { decision: 'approve', reason: 'sure' })),
    'ERR_WAYBILL_FORBIDDEN',
  );
  const other = await s.principals.create(h.principal, { name: 'rita', roles: ['requester'] });
  assert.equal(
    await code(s.requests.decide(other.principal, v.request.id, { decision: 'approve', reason: 'sure' })),
    'ERR_WAYBILL_FORBIDDEN',
  );
  // A security officer holds an approving role, but this request needs an approver.
  assert.equal(
    await code(s.requests.decide(p('sec1'), v.request.id, { decision: 'approve', reason: 'sure' })),
    'ERR_WAYBILL_FORBIDDEN',
  );
  assert.equal((await s.requests.get(p('alice'), v.request.id)).request.status, 'pending_approval');
});

test('run before approval is refused with 409 (ERR_WAYBILL_NOT_APPROVED)', async () => {
  const v = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  assert.equal(await code(s.requests.prepareRun(p('alice'), v.request.id)), 'ERR_WAYBILL_NOT_APPROVED');
});

test('run after the approval expired is refused, and the export is pending again', async () => {
  const v = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  await s.requests.decide(p('bob'), v.request.id, { decision: 'approve', reason: 'ok' });
  now += 24 * 3600 * 1000 + 1000;
  try {
    assert.equal(await code(s.requests.prepareRun(p('alice'), v.request.id)), 'ERR_WAYBILL_NOT_APPROVED');
    const after = await s.requests.get(p('alice'), v.request.id);
    assert.equal(after.request.status, 'pending_approval');
    assert.equal(after.approvals[0]!.valid, false);
    assert.equal(after.request.round, 2);
    // A new round: the same approver may approve again, and that makes it runnable again.
    await s.requests.decide(p('bob'), v.request.id, { decision: 'approve', reason: 'still needed' });
    const prepared = await s.requests.prepareRun(p('alice'), v.request.id);
    assert.equal((await prepared.execute({ workers: 0 })).run.status, 'sealed');
  } finally {
    now -= 24 * 3600 * 1000 + 1000;
  }
});

test('approval reused after the definition changed is void', async () => {
  const v = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  await s.requests.decide(p('bob'), v.request.id, { decision: 'approve', reason: 'ok' });
  const pending = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  await writeFile(
    join(t.dir, 'people.yaml'),
    definition('  - { name: email2, from: email, transform: redact }\n'),
  );
  assert.equal((await cli(['--home', t.home, 'def', 'apply', join(t.dir, 'people.yaml')])).code, 0);
  try {
    assert.equal(await code(s.requests.prepareRun(p('alice'), v.request.id)), 'ERR_WAYBILL_NOT_APPROVED');
    assert.equal((await s.requests.get(p('alice'), v.request.id)).request.status, 'void');
    // Nor can the old version be approved any more: that request is void too.
    assert.equal(
      await code(s.requests.decide(p('carol'), pending.request.id, { decision: 'approve', reason: 'ok' })),
      'ERR_WAYBILL_CONFLICT',
    );
  } finally {
    await writeFile(join(t.dir, 'people.yaml'), definition());
    assert.equal((await cli(['--home', t.home, 'def', 'apply', join(t.dir, 'people.yaml')])).code, 0);
  }
});

test('a purpose the definition does not allow is denied (purpose limitation), never as an exception', async () => {
  for (const justification of [undefined, 'please']) {
    const v = await s.requests.request(p('alice'), {
      definition: 'people',
      purpose: 'marketing',
      ...(justification ? { justification } : {}),
    });
    assert.equal(v.request.status, 'denied');
    assert.equal(v.request.kind, 'business');
    assert.deepEqual(v.request.decision.policyIds, ['purpose-limitation']);
    assert.ok(
      v.request.reasons.some((r) => /purpose "marketing" is not allowed .* \(allowed: support\)/.test(r)),
    );
  }
});

test('a viewer is denied with reasons; with a justification a requester gets an exception needing security plus one more', async () => {
  const denied = await s.requests.request(p('vic'), { definition: 'ids', purpose: 'support' });
  assert.equal(denied.request.status, 'denied');
  assert.match(denied.request.reasons[0]!, /no policy permits it/);

  // A policy that forbids exporting `ids` makes a requester's request deniable → exception.
  const forbid = `${DEFAULT_POLICY_SET}
@id("no-ids-exports")
forbid (principal, action == Waybill::Action::"export.request", resource)
when { resource.name == "ids" };
`;
  await s.policies.apply(h.principal, forbid);
  try {
    const plainDenied = await s.requests.request(p('alice'), { definition: 'ids', purpose: 'support' });
    assert.equal(plainDenied.request.status, 'denied');
    assert.deepEqual(plainDenied.request.decision.policyIds, ['no-ids-exports']);
    const ex = await s.requests.request(p('alice'), {
      definition: 'ids',
      purpose: 'support',
      justification: 'audit of ticket 7',
    });
    assert.equal(ex.request.kind, 'exception');
    assert.equal(ex.request.status, 'pending_approval');
    assert.deepEqual(ex.request.requirements, [
      { role: 'security', count: 1 },
      { role: 'any', count: 2 },
    ]);
    await s.requests.decide(p('sec1'), ex.request.id, { decision: 'approve', reason: 'justified' });
    assert.equal((await s.requests.get(p('alice'), ex.request.id)).request.status, 'pending_approval');
    assert.equal(await code(s.requests.prepareRun(p('alice'), ex.request.id)), 'ERR_WAYBILL_NOT_APPROVED');
    const done = await s.requests.decide(p('bob'), ex.request.id, { decision: 'approve', reason: 'agreed' });
    assert.equal(done.request.status, 'approved');
    const r = await (await s.requests.prepareRun(p('alice'), ex.request.id)).execute({ workers: 0 });
    assert.equal(r.predicate.policy.kind, 'exception');
    assert.equal(r.predicate.policy.justification, 'audit of ticket 7');
    assert.equal(r.predicate.approvals.length, 2);
  } finally {
    await s.policies.apply(h.principal, DEFAULT_POLICY_SET);
  }
});

test('investigations: security requests, a second security approves; flagged, visible to admins only, and business exports go on', async () => {
  assert.equal(
    (await s.requests.request(p('alice'), { definition: 'people', purpose: 'investigation' })).request.status,
    'denied',
  );
  const inv = await s.requests.request(p('sec1'), { definition: 'people', purpose: 'investigation' });
  assert.equal(inv.request.kind, 'investigation');
  assert.equal(inv.request.status, 'pending_approval');
  assert.deepEqual(inv.request.requirements, [{ role: 'security', count: 1 }]);
  // An approver is not enough (cannot even see it: 404), and the requesting officer cannot approve it.
  assert.equal(
    await code(s.requests.decide(p('bob'), inv.request.id, { decision: 'approve', reason: 'x' })),
    'ERR_WAYBILL_NOT_FOUND',
  );
  assert.equal(
    await code(s.requests.decide(p('sec1'), inv.request.id, { decision: 'approve', reason: 'x' })),
    'ERR_WAYBILL_FORBIDDEN',
  );
  // Hidden from requesters and viewers (404), visible to every admin.
  assert.equal(await code(s.requests.get(p('alice'), inv.request.id)), 'ERR_WAYBILL_NOT_FOUND');
  assert.equal(await code(s.requests.get(p('vic'), inv.request.id)), 'ERR_WAYBILL_NOT_FOUND');
  assert.equal((await s.requests.get(h.principal, inv.request.id)).request.kind, 'investigation');
  assert.ok(
    (await s.requests.list(h.principal, { kind: 'investigation' })).some(
      (v) => v.request.id === inv.request.id,
    ),
  );
  assert.equal(await code(s.requests.list(p('alice'), { kind: 'investigation' })), 'ERR_WAYBILL_FORBIDDEN');

  // A business export of the same definition is requested, approved and run meanwhile.
  const biz = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  await s.requests.decide(p('bob'), biz.request.id, { decision: 'approve', reason: 'ok' });
  assert.equal(
    (await (await s.requests.prepareRun(p('alice'), biz.request.id)).execute({ workers: 0 })).run.status,
    'sealed',
  );

  await s.requests.decide(p('sec2'), inv.request.id, { decision: 'approve', reason: 'incident 9' });
  const r = await (await s.requests.prepareRun(p('sec1'), inv.request.id)).execute({ workers: 0 });
  assert.equal(r.predicate.purpose, 'investigation');
  assert.equal(r.predicate.policy.kind, 'investigation');
  const flagged = (await auditTypes()).filter((e) => e.details['investigation'] === true);
  assert.deepEqual(
    flagged.map((e) => e.type),
    // alice's denied attempt is flagged too, then the officer's request and the second officer's approval.
    ['export.requested', 'export.requested', 'export.approved'],
  );
});

test('a time-bound grant lets a viewer request and run until it expires by itself; revocation is immediate', async () => {
  const g = await s.grants.add(h.principal, {
    principal: 'vic',
    definition: 'ids',
    expiresAt: new Date(now + 3600_000).toISOString(),
    reason: 'one-off reconciliation',
  });
  const ok = await s.requests.request(p('vic'), { definition: 'ids', purpose: 'support' });
  assert.equal(ok.request.status, 'approved');
  const expired = await s.requests.request(p('vic'), { definition: 'ids', purpose: 'support' });
  now += 3600_000 + 1;
  try {
    // No job ran: the grant simply no longer holds at decision time.
    assert.equal(await code(s.requests.prepareRun(p('vic'), expired.request.id)), 'ERR_WAYBILL_FORBIDDEN');
    assert.equal(
      (await s.requests.request(p('vic'), { definition: 'ids', purpose: 'support' })).request.status,
      'denied',
    );
  } finally {
    now -= 3600_000 + 1;
  }
  assert.equal(
    (await (await s.requests.prepareRun(p('vic'), ok.request.id)).execute({ workers: 0 })).run.status,
    'sealed',
  );
  await s.grants.revoke(h.principal, g.id);
  assert.equal(
    (await s.requests.request(p('vic'), { definition: 'ids', purpose: 'support' })).request.status,
    'denied',
  );
  // Only a grant.manage holder (an admin) grants.
  assert.equal(
    await code(
      s.grants.add(p('alice'), {
        principal: 'alice',
        definition: 'people',
        expiresAt: new Date(now + 60_000).toISOString(),
        reason: 'me',
      }),
    ),
    'ERR_WAYBILL_FORBIDDEN',
  );
});

test('revoked API key replayed is refused, on the CLI too', async () => {
  const c = await s.principals.create(h.principal, { name: 'temp', roles: ['viewer'] });
  assert.equal((await s.principals.authenticate(c.apiKey)).principal.name, 'temp');
  await s.principals.revokeKey(h.principal, c.apiKeyRecord.id);
  assert.equal(await code(s.principals.authenticate(c.apiKey)), 'ERR_WAYBILL_UNAUTHENTICATED');
  assert.equal(await s.principals.isKeyActive(c.apiKeyRecord.id, new Date()), false);
  const r = await cli(['--home', t.home, 'export', 'status'], { WAYBILL_API_KEY: c.apiKey });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_WAYBILL_UNAUTHENTICATED/);
  // An expired key is refused the same way.
  const e = await s.principals.create(h.principal, {
    name: 'brief',
    roles: ['viewer'],
    keyExpiresAt: new Date(now + 1000).toISOString(),
  });
  now += 2000;
  try {
    assert.equal(await code(s.principals.authenticate(e.apiKey)), 'ERR_WAYBILL_UNAUTHENTICATED');
  } finally {
    now -= 2000;
  }
});

test('cross-workspace read of exports is 404, and the attempt is audited', async () => {
  const v = await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' });
  const other = await h.store.transaction((tx) =>
    s.principals.bootstrap(tx, 'acme', { name: 'acme-admin', roles: ['admin', 'security'] }),
  );
  for (const attempt of [
    s.requests.get(other.principal, v.request.id),
    s.requests.decide(other.principal, v.request.id, { decision: 'approve', reason: 'x' }),
    s.requests.prepareRun(other.principal, v.request.id),
    s.requests.cancel(other.principal, v.request.id),
  ]) {
    assert.equal(await code(attempt), 'ERR_WAYBILL_NOT_FOUND');
  }
  assert.equal((await s.requests.list(other.principal)).length, 0);
  assert.equal(await code(s.principals.byName(other.principal, 'alice')), 'ERR_WAYBILL_NOT_FOUND');
  const attempts = (await auditTypes()).filter(
    (e) => e.type === 'access.not_found' && e.workspace === 'acme',
  );
  // Four on the export, one on the principal.
  assert.equal(attempts.length, 5);
});

test('policy apply: invalid sets are refused naming the policy; a lock-out is refused; a new set changes decisions', async () => {
  assert.equal(
    await code(s.policies.apply(h.principal, 'permit (principal, action, resource)')),
    'ERR_WAYBILL_POLICY_INVALID',
  );
  const badAttr =
    '@id("x")\npermit (principal, action == Waybill::Action::"export.request", resource) when { resource.colour == "red" };';
  try {
    await s.policies.apply(h.principal, `${DEFAULT_POLICY_SET}\n${badAttr}`);
    assert.fail('accepted');
  } catch (e) {
    assert.equal((e as WaybillError).code, 'ERR_WAYBILL_POLICY_INVALID');
    assert.match((e as Error).message, /policy "x"/);
  }
  assert.equal(
    await code(s.policies.apply(h.principal, '@id("nothing")\nforbid (principal, action, resource);')),
    'ERR_WAYBILL_POLICY_INVALID',
  );
  assert.equal(await code(s.policies.apply(p('alice'), DEFAULT_POLICY_SET)), 'ERR_WAYBILL_FORBIDDEN');

  // Without the approval policy, the confidential export is approved at once.
  const relaxed = DEFAULT_POLICY_SET.replace(
    /@id\("confidential-data-needs-an-approver"\)[\s\S]*?unless \{ context\.approvals\.approver >= 1 \};/,
    '',
  );
  assert.notEqual(relaxed, DEFAULT_POLICY_SET);
  const applied = await s.policies.apply(h.principal, relaxed);
  assert.equal(applied.changed, true);
  try {
    assert.equal(
      (await s.requests.request(p('alice'), { definition: 'people', purpose: 'support' })).request.status,
      'approved',
    );
  } finally {
    await s.policies.apply(h.principal, DEFAULT_POLICY_SET);
  }
  const history = await s.policies.history('default');
  assert.ok(history.length >= 3);
  assert.equal(history.at(-1)!.text, DEFAULT_POLICY_SET);
});

test('a requester cannot administer through the CLI: definitions, connections, keys, redaction are refused and audited', async () => {
  const env = { WAYBILL_API_KEY: keys['alice']! };
  for (const args of [
    ['def', 'apply', join(t.dir, 'ids.yaml')],
    ['source', 'add', 'x', '--kind', 'csv', '--path', join(t.dir, 'people.csv')],
    ['destination', 'remove', 'out'],
    ['keys', 'rotate', '--log'],
    ['keys', 'create-hmac', 'mine'],
    ['audit', 'redact', '1', '--reason', 'hide it'],
    ['policy', 'apply', join(t.dir, 'ids.yaml')],
    ['grant', 'add', '--principal', 'alice', '--definition', 'people', '--for', 'PT1H', '--reason', 'me'],
    ['user', 'add', 'eve', '--role', 'admin'],
  ]) {
    const r = await cli(['--home', t.home, ...args], env);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /ERR_WAYBILL_(FORBIDDEN|POLICY_INVALID)/, args.join(' '));
  }
  const denied = (await auditTypes()).filter((e) => e.type === 'access.denied' && e.actor === 'user:alice');
  assert.ok(denied.length >= 8);
  // The destination is still there.
  assert.equal((await cli(['--home', t.home, 'destination', 'list'])).stdout.includes('out'), true);
});

test('policy changes can need approvals: four eyes on the policy itself (no self-approval, right role, once)', async () => {
  const fourEyes = `${DEFAULT_POLICY_SET}
@id("policy-changes-need-a-second-admin")
@approvals("admin:1")
forbid (principal, action == Waybill::Action::"policy.apply", resource)
unless { context.approvals.admin >= 1 };
`;
  const admin2 = (await s.principals.create(h.principal, { name: 'admin2', roles: ['admin'] })).principal;
  // Made under the policy in force, which needs no approval: it applies at once.
  assert.equal((await s.policies.apply(h.principal, fourEyes)).status, 'applied');
  const before = (await s.policies.inForce('default')).version;

  const change = await s.policies.apply(h.principal, DEFAULT_POLICY_SET);
  assert.equal(change.status, 'pending_approval');
  assert.deepEqual(change.requirements, [{ role: 'admin', count: 1 }]);
  assert.equal((await s.policies.inForce('default')).version, before, 'nothing changed yet');
  const id = change.proposalId!;
  // Whoever may approve sees what they approve: the text, and what it replaces.
  const seen = await s.policies.proposal(p('sec1'), id);
  assert.equal(seen.text, DEFAULT_POLICY_SET);
  assert.equal(seen.baseText, fourEyes);
  assert.equal(await code(s.policies.proposal(p('alice'), id)), 'ERR_WAYBILL_FORBIDDEN');
  assert.equal(
    await code(s.policies.decideProposal(h.principal, id, { decision: 'approve', reason: 'mine' })),
    'ERR_WAYBILL_FORBIDDEN',
  );
  assert.equal(
    await code(s.policies.decideProposal(p('bob'), id, { decision: 'approve', reason: 'ok' })),
    'ERR_WAYBILL_FORBIDDEN',
  );
  assert.equal(
    await code(s.policies.decideProposal(p('sec1'), id, { decision: 'approve', reason: 'ok' })),
    'ERR_WAYBILL_FORBIDDEN',
  );
  const done = await s.policies.decideProposal(admin2, id, { decision: 'approve', reason: 'reviewed' });
  assert.equal(done.status, 'applied');
  assert.equal((await s.policies.inForce('default')).text, DEFAULT_POLICY_SET);
  assert.equal(
    await code(s.policies.decideProposal(admin2, id, { decision: 'approve', reason: 'again' })),
    'ERR_WAYBILL_FORBIDDEN',
  );
  const types = (await auditTypes()).map((e) => e.type);
  assert.ok(types.includes('policy.proposed') && types.includes('policy.approved'));
  // The CLI shows the same flow.
  const pending = await cli(['--home', t.home, 'policy', 'proposals', '--json']);
  assert.equal(pending.code, 0, pending.stderr);
  assert.equal(
    (JSON.parse(pending.stdout) as { proposals: { status: string }[] }).proposals[0]!.status,
    'applied',
  );
});

test('definition names and purposes with dots and underscores can be requested (as definitions allow them)', async () => {
  const file = join(t.dir, 'ids_v2.yaml');
  await writeFile(
    file,
    plain.replace('name: ids', 'name: ids_v2.x').replace('purposes: [support]', 'purposes: [support_2.0]'),
  );
  assert.equal((await cli(['--home', t.home, 'def', 'apply', file])).code, 0);
  const v = await s.requests.request(p('alice'), { definition: 'ids_v2.x', purpose: 'support_2.0' });
  assert.equal(v.request.status, 'approved');
});
