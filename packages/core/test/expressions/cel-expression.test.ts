import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpression, type ExpressionVariable } from '../../src/expressions/index.js';

const customers: readonly ExpressionVariable[] = [
  { name: 'country' },
  { name: 'lifetime_value' },
  { name: 'email' },
  { name: 'name' },
  { name: 'is_active' },
];

function filter(source: string, variables: readonly ExpressionVariable[] = customers) {
  return compileExpression(source, { variables, purpose: 'filter', where: 'filter' });
}

function compute(source: string, variables: readonly ExpressionVariable[] = customers) {
  return compileExpression(source, { variables, purpose: 'compute', where: 'fields[0].compute' });
}

void describe('compileExpression: filters', () => {
  void it('filters on membership and a double threshold, whether the column holds ints or doubles', () => {
    const f = filter('country in ["US", "CA"] && lifetime_value >= 1000.0');
    assert.equal(f.source, 'country in ["US", "CA"] && lifetime_value >= 1000.0');
    assert.equal(f.purpose, 'filter');
    assert.equal(f.evaluate({ country: 'US', lifetime_value: 1500 }), true);
    assert.equal(f.evaluate({ country: 'CA', lifetime_value: 1500.5 }), true);
    assert.equal(f.evaluate({ country: 'US', lifetime_value: 999.99 }), false);
    assert.equal(f.evaluate({ country: 'DE', lifetime_value: 5000 }), false);
  });

  void it('compares an int literal with int and double cells alike', () => {
    const f = filter('lifetime_value >= 1000');
    assert.equal(f.evaluate({ lifetime_value: 1500 }), true);
    assert.equal(f.evaluate({ lifetime_value: 1500.5 }), true);
    assert.equal(f.evaluate({ lifetime_value: 1000 }), true);
    assert.equal(f.evaluate({ lifetime_value: 999.5 }), false);
    assert.equal(filter('lifetime_value == 1000').evaluate({ lifetime_value: 1000.0 }), true);
  });

  void it('uses string functions', () => {
    const f = filter('email.endsWith("@example.com") && name.startsWith("J") && size(name) <= 4');
    assert.equal(f.evaluate({ email: 'jane@example.com', name: 'Jane' }), true);
    assert.equal(f.evaluate({ email: 'jane@example.com', name: 'Janet' }), false);
    assert.equal(f.evaluate({ email: 'jane@example.org', name: 'Jane' }), false);
    assert.equal(filter('name.contains("ö") && name.size() == 3').evaluate({ name: 'Jöe' }), true);
  });

  void it('reads bool columns directly', () => {
    assert.equal(filter('is_active').evaluate({ is_active: true }), true);
    assert.equal(filter('!is_active').evaluate({ is_active: true }), false);
  });

  void it('handles null columns: == null tests, guards short-circuit, CEL absorbs errors in && and ||', () => {
    assert.equal(filter('lifetime_value == null').evaluate({ lifetime_value: null }), true);
    const guarded = filter('lifetime_value != null && lifetime_value >= 1000');
    assert.equal(guarded.evaluate({ lifetime_value: null }), false);
    assert.equal(guarded.evaluate({ lifetime_value: 2000 }), true);
    // The comparison fails on null, but `false && error` is false in CEL.
    assert.equal(
      filter('lifetime_value >= 1000 && country == "DE"').evaluate({ lifetime_value: null, country: 'US' }),
      false,
    );
    assert.equal(
      filter('lifetime_value >= 1000 || country == "US"').evaluate({ lifetime_value: null, country: 'US' }),
      true,
    );
    assert.equal(filter('country in ["US"]').evaluate({ country: null }), false);
  });

  void it('treats a missing column as null', () => {
    assert.equal(filter('country == null').evaluate({}), true);
  });

  void it('evaluates a parsed filter on 100k rows', () => {
    const f = filter('country in ["US", "CA"] && lifetime_value >= 1000.0 && email.endsWith(".com")');
    const countries = ['US', 'CA', 'DE', 'FR'];
    let kept = 0;
    for (let i = 0; i < 100_000; i++) {
      const row = {
        country: countries[i % 4] ?? null,
        lifetime_value: i % 3 === 0 ? i : i + 0.5,
        email: i % 5 === 0 ? `user${i}@example.org` : `user${i}@example.com`,
      };
      if (f.evaluate(row)) kept++;
    }
    let expected = 0;
    for (let i = 0; i < 100_000; i++) if (i % 4 < 2 && i >= 1000 && i % 5 !== 0) expected++;
    assert.equal(kept, expected);
  });
});

void describe('compileExpression: computed fields', () => {
  void it('computes bands with nested ternaries on int and double cells', () => {
    const band = compute('lifetime_value >= 10000 ? "gold" : lifetime_value >= 1000 ? "silver" : "bronze"');
    assert.equal(band.evaluate({ lifetime_value: 25000 }), 'gold');
    assert.equal(band.evaluate({ lifetime_value: 10000.0 }), 'gold');
    assert.equal(band.evaluate({ lifetime_value: 1000 }), 'silver');
    assert.equal(band.evaluate({ lifetime_value: 999.99 }), 'bronze');
    assert.equal(
      compute('lifetime_value == null ? "unknown" : "known"').evaluate({ lifetime_value: null }),
      'unknown',
    );
  });

  void it('does int arithmetic on ints and mixes ints and doubles into doubles', () => {
    assert.equal(compute('lifetime_value + 1').evaluate({ lifetime_value: 41 }), 42);
    assert.equal(compute('lifetime_value / 2').evaluate({ lifetime_value: 7 }), 3); // CEL int division
    assert.equal(compute('lifetime_value * 1.5').evaluate({ lifetime_value: 10 }), 15);
    assert.equal(compute('lifetime_value * 1.5').evaluate({ lifetime_value: 10.5 }), 15.75);
    assert.equal(compute('lifetime_value + 1').evaluate({ lifetime_value: 0.5 }), 1.5);
    assert.equal(compute('1.5 - lifetime_value').evaluate({ lifetime_value: 1 }), 0.5);
  });

  void it('returns ints beyond 2^53 as decimal strings', () => {
    const big = compute('n * 1000', [{ name: 'n', type: 'int' }]);
    assert.equal(big.evaluate({ n: 9_007_199_254_740 }), 9_007_199_254_740_000);
    assert.equal(big.evaluate({ n: '9007199254740993' }), '9007199254740993000');
    assert.equal(
      compute('n', [{ name: 'n', type: 'int' }]).evaluate({ n: '-9223372036854775808' }),
      '-9223372036854775808',
    );
  });

  void it('converts cells per declared type', () => {
    const vars: ExpressionVariable[] = [
      { name: 'price', type: 'double' },
      { name: 'qty', type: 'int' },
      { name: 'at', type: 'timestamp' },
      { name: 'label', type: 'string' },
      { name: 'flag', type: 'bool' },
    ];
    assert.equal(compute('price / 2', vars).evaluate({ price: 3 }), 1.5);
    assert.equal(compute('price * 2', vars).evaluate({ price: '1.25' }), 2.5);
    assert.equal(compute('qty + 1', vars).evaluate({ qty: '41' }), 42);
    assert.equal(compute('at.getFullYear()', vars).evaluate({ at: '2024-12-31T23:30:00-02:00' }), 2025);
    assert.equal(
      compute('at', vars).evaluate({ at: '2024-05-01T01:00:00+02:00' }),
      '2024-04-30T23:00:00.000Z',
    );
    assert.equal(compute('at', vars).evaluate({ at: '2024-05-01' }), '2024-05-01T00:00:00.000Z');
    assert.equal(compute('label + "!"', vars).evaluate({ label: 'hi' }), 'hi!');
    assert.equal(compute('flag ? 1 : 0', vars).evaluate({ flag: false }), 0);
    assert.equal(compute('qty', vars).evaluate({ qty: null }), null);
  });

  void it('returns strings, bools, null, bytes and uints as cells', () => {
    assert.equal(
      compute('name + " <" + email + ">"').evaluate({ name: 'Jane', email: 'j@x.io' }),
      'Jane <j@x.io>',
    );
    assert.equal(compute('size(name) > 2').evaluate({ name: 'Jane' }), true);
    assert.equal(compute('null').evaluate({}), null);
    assert.equal(compute('name').evaluate({ name: null }), null);
    assert.equal(compute('b"hi"').evaluate({}), 'aGk=');
    assert.equal(compute('7u').evaluate({}), 7);
    assert.equal(compute('string(lifetime_value)').evaluate({ lifetime_value: 12 }), '12');
    assert.equal(compute('timestamp("2024-01-01T00:00:00Z")').evaluate({}), '2024-01-01T00:00:00.000Z');
  });

  void it('handles unicode and long strings', () => {
    assert.equal(compute('size(name)').evaluate({ name: '👩‍🚀' }), 3); // CEL size counts code points
    assert.equal(compute('name + "🎉"').evaluate({ name: '東京' }), '東京🎉');
    assert.equal(compute('size(name)').evaluate({ name: 'x'.repeat(1024 * 1024) }), 1024 * 1024);
  });
});
