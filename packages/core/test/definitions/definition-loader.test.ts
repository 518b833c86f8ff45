import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefinitionInvalidError, parseDefinition } from '../../src/definitions/definition-loader.js';
import { definitionVersion } from '../../src/definitions/definition-version.js';
import { diffDefinitions } from '../../src/definitions/definition-diff.js';

const valid = `apiVersion: waybill/v1
kind: ExportDefinition
name: customers
owner: team:data
purposes: [analytics]
source: { connection: crm, table: customers }
fields:
  - name: id
    from: id
  - name: email
    from: email
    transform: { type: mask_email }
destination: { connection: out }
retention: P30D
`;

function problem(text: string): DefinitionInvalidError {
  try {
    parseDefinition(text, 'def.yaml');
  } catch (e) {
    assert.ok(e instanceof DefinitionInvalidError, String(e));
    return e;
  }
  assert.fail('expected the definition to be refused');
}

test('a valid definition parses with defaults filled in', () => {
  const d = parseDefinition(valid, 'def.yaml');
  assert.equal(d.format, 'csv');
  assert.equal(d.source.recordId, 'id');
  assert.equal(d.destination.path, '{name}/{date}/{runId}');
});

test('errors name file, line, path and what is wrong', () => {
  const e = problem(valid.replace('retention: P30D', 'retention: 30 days'));
  assert.equal(e.code, 'ERR_WAYBILL_DEFINITION_INVALID');
  assert.match(e.message, /^def\.yaml:14:\d+: retention: must be an ISO 8601 duration/);
});

test('a field with both from and compute is refused naming the field', () => {
  const e = problem(valid.replace('    from: email\n', '    from: email\n    compute: "1"\n'));
  assert.match(e.message, /fields\[1\]: give exactly one of `from`/);
});

test('unknown keys, wrong apiVersion, bad YAML and duplicates are refused', () => {
  assert.match(problem(valid + 'colour: blue\n').message, /colour|unrecognized/i);
  assert.match(problem(valid.replace('waybill/v1', 'waybill/v2')).message, /apiVersion/);
  assert.match(problem('name: [unclosed').message, /YAML syntax/);
  assert.match(
    problem(valid.replace('  - name: email', '  - name: id')).message,
    /duplicate output field "id"/,
  );
  assert.match(problem(valid.replace('source:', 'source:\n  x: 1\nsource:')).message, /YAML syntax|unique/i);
  assert.match(problem('- a\n- b\n').message, /expected object|Invalid input/i);
});

test('the version is stable across formatting and key order, and changes with content', () => {
  const a = parseDefinition(valid);
  const b = parseDefinition(
    `# comment\n${valid.replace('name: customers\nowner: team:data', 'owner: team:data\nname: customers')}`,
  );
  assert.equal(definitionVersion(a), definitionVersion(b));
  assert.match(definitionVersion(a), /^sha256:[0-9a-f]{64}$/);
  const c = parseDefinition(valid.replace('P30D', 'P31D'));
  assert.notEqual(definitionVersion(a), definitionVersion(c));
});

test('diff reports field-level changes matched by output name', () => {
  const a = parseDefinition(valid);
  const b = parseDefinition(
    valid
      .replace('transform: { type: mask_email }', 'transform: redact')
      .replace('  - name: id\n    from: id\n', '') + '',
  );
  const changes = diffDefinitions(a, b);
  assert.deepEqual(
    changes.map((c) => `${c.kind} ${c.path}`).sort(),
    [
      'changed fields.(order)',
      'changed fields.email.transform',
      'removed fields.id',
      'removed fields.id.from',
    ].sort(),
  );
});

test('yaml-alias-bomb-is-refused-as-an-invalid-definition', () => {
  const bomb = [
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    'f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  ].join('\n');
  const e = problem(bomb);
  assert.equal(e.code, 'ERR_WAYBILL_DEFINITION_INVALID');
  assert.match(e.message, /alias/i);
  assert.match(problem('x'.repeat(2 * 1024 * 1024)).message, /at most/);
});

test('retention must be positive and bounded', () => {
  assert.match(problem(valid.replace('P30D', 'P0D')).message, /retention: must be longer than zero/);
  assert.match(
    problem(valid.replace('P30D', 'P99999999999999999999Y')).message,
    /retention: must be at most 1000 years/,
  );
});
