// The protection rules live in the Cedar policy set (`field.release`), so they are versioned, audited
// and approved with it. The default set must say exactly what the built-in table says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_POLICY_SET,
  PROTECTION_LEVELS,
  PolicyEngine,
  TABLE_PROTECTION_RULES,
  TRUST_TIERS,
  compilePolicySet,
  policyProtectionRules,
} from '../../src/index.js';
import { TRANSFORM_PROTECTION } from '../../src/catalog/protection-rules.js';

const SENSITIVITIES = ['public', 'internal', 'confidential', 'restricted'] as const;
/** One transform per protection level. */
const BY_LEVEL = Object.fromEntries(
  PROTECTION_LEVELS.map((l) => [
    l,
    Object.keys(TRANSFORM_PROTECTION).find((t) => TRANSFORM_PROTECTION[t] === l)!,
  ]),
);

test('the default policy set decides every (sensitivity, tier, protection) exactly as the built-in table', async () => {
  const engine = await PolicyEngine.create(await compilePolicySet(DEFAULT_POLICY_SET));
  const rules = policyProtectionRules(engine, 'default');
  assert.notEqual(rules, TABLE_PROTECTION_RULES, 'the default set speaks of field.release');
  let refused = 0;
  for (const sensitivity of SENSITIVITIES) {
    for (const tier of TRUST_TIERS) {
      for (const level of PROTECTION_LEVELS) {
        const f = { name: 'f', sensitivity, piiKind: null };
        const fromPolicy = rules.check(f, tier, BY_LEVEL[level]!);
        const fromTable = TABLE_PROTECTION_RULES.check(f, tier, BY_LEVEL[level]!);
        assert.equal(fromPolicy === null, fromTable === null, `${sensitivity} → ${tier} with ${level}`);
        if (fromPolicy && fromTable) {
          assert.equal(fromPolicy.needs, fromTable.needs, `${sensitivity} → ${tier} with ${level}`);
          assert.ok(fromPolicy.rule.startsWith(fromTable.rule), fromPolicy.rule);
          assert.match(fromPolicy.rule, /\(policy "[a-z-]+"\)$/);
          refused++;
        }
      }
    }
  }
  assert.equal(refused, 10, 'the table refuses 10 of the 48 combinations');
});

test('a policy set changes the rules: partners may take confidential data as it is', async () => {
  const relaxed = DEFAULT_POLICY_SET.replace(
    /@id\("confidential-data-is-masked-for-partners"\)[\s\S]*?;\n/,
    '',
  );
  assert.notEqual(relaxed, DEFAULT_POLICY_SET);
  const engine = await PolicyEngine.create(await compilePolicySet(relaxed));
  const rules = policyProtectionRules(engine, 'default');
  const f = { name: 'email', sensitivity: 'confidential' as const, piiKind: 'email' };
  assert.equal(rules.check(f, 'partner', 'keep'), null);
  assert.notEqual(rules.check(f, 'public', 'keep'), null);
});

test('a policy set that never mentions field.release keeps the built-in table (older homes)', async () => {
  const text = `@id("admins") permit (principal in Waybill::Role::"admin", action, resource);`;
  const engine = await PolicyEngine.create(await compilePolicySet(text));
  assert.equal(policyProtectionRules(engine, 'default'), TABLE_PROTECTION_RULES);
});

test('a set whose field.release has no permit refuses every field, saying so', async () => {
  const text = `@id("x") @protection("masked") forbid (principal, action == Waybill::Action::"field.release", resource) when { context.protection < 1 };`;
  const engine = await PolicyEngine.create(await compilePolicySet(text));
  const r = policyProtectionRules(engine, 'default').check(
    { name: 'id', sensitivity: 'public', piiKind: null },
    'internal',
    'drop',
  );
  assert.equal(r?.needs, 'dropped');
  assert.match(r.rule, /no policy permits field.release/);
});

test('@protection must sit on a forbid and name a protection level', async () => {
  for (const text of [
    `@id("a") @protection("masked") permit (principal, action == Waybill::Action::"field.release", resource);`,
    `@id("a") @protection("hidden") forbid (principal, action == Waybill::Action::"field.release", resource);`,
  ]) {
    await assert.rejects(compilePolicySet(text), /@protection goes on a forbid of field.release/);
  }
});
