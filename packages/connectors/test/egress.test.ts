import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkEgressPattern } from '@waybill/core';
import { egressRuleFor, isPrivateAddress } from '../src/egress.js';

test('private, loopback, link-local and reserved addresses are told apart from public ones', () => {
  for (const a of [
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1', // IPv4-mapped loopback
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1', // NAT64 of 10.0.0.1
    'not-an-address',
  ]) {
    assert.equal(isPrivateAddress(a), true, a);
  }
  for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
    assert.equal(isPrivateAddress(a), false, a);
  }
});

test('egress patterns: hosts, wildcards, ports and IP literals match exactly what they name', () => {
  const rules = [
    { pattern: 'hooks.example.com', allowPrivate: false },
    { pattern: '*.partner.org', allowPrivate: false },
    { pattern: 'files.example.net:8443', allowPrivate: false },
    { pattern: '10.0.0.5:443', allowPrivate: true },
    { pattern: '[fd00::5]', allowPrivate: true },
  ];
  const ok = (u: string) => egressRuleFor(new URL(u), rules).pattern;
  assert.equal(ok('https://hooks.example.com/x'), 'hooks.example.com');
  assert.equal(ok('https://HOOKS.example.com:443/x'), 'hooks.example.com');
  assert.equal(ok('https://a.b.partner.org/'), '*.partner.org');
  assert.equal(ok('https://files.example.net:8443/'), 'files.example.net:8443');
  assert.equal(ok('https://10.0.0.5/'), '10.0.0.5:443');
  assert.equal(ok('https://[fd00::5]/'), '[fd00::5]');
  for (const u of [
    'https://evil-hooks.example.com/',
    'https://hooks.example.com.evil.net/',
    'https://partner.org/', // the wildcard is for subdomains only
    'https://files.example.net/', // another port
    'https://10.0.0.6/',
    'https://169.254.169.254/latest/meta-data/',
  ]) {
    assert.throws(() => egressRuleFor(new URL(u), rules), { code: 'ERR_WAYBILL_EGRESS_DENIED' }, u);
  }
  // An IP literal on the list still needs the rule to allow private addresses.
  assert.throws(
    () => egressRuleFor(new URL('https://127.0.0.1/'), [{ pattern: '127.0.0.1', allowPrivate: false }]),
    /loopback, private or link-local/,
  );
});

test('bad egress patterns are refused, naming them', () => {
  for (const p of ['', 'http://x.com', 'x.com/path', '*.[::1]', 'x.com:99999', 'a b', '*']) {
    assert.throws(() => checkEgressPattern(p), { code: 'ERR_WAYBILL_INVALID_INPUT' }, p);
  }
  assert.equal(checkEgressPattern(' Hooks.Example.COM:8443 '), 'hooks.example.com:8443');
});
