import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { EGRESS_PATTERN as PATTERN, type EgressRule } from '@waybill/core';
import { WaybillError } from '@waybill/verify';

/**
 * The egress allowlist (SSRF defence): a destination may only reach a host a rule of its workspace
 * names, and only a public address unless the rule says `allowPrivate`. Checked before every
 * connection — on the URL's host, on every address DNS gives for it (inside the socket's own lookup,
 * so a name cannot resolve differently between check and connect), and again on every redirect.
 */

/** Addresses a destination never reaches unless its rule allows private addresses. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64 (maps IPv4, private ones included)
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is loopback, private, link-local or otherwise not on the public internet. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
    return PRIVATE.check(address, 'ipv6');
  }
  return true; // not an address: never trusted as public
}

/** The rule that lets `url` through, or an `ERR_WAYBILL_EGRESS_DENIED` naming the host. */
export function egressRuleFor(url: URL, rules: readonly EgressRule[]): EgressRule {
  const host = url.hostname.toLowerCase();
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : url.protocol === 'sftp:' ? 22 : 80));
  const rule = rules.find((r) => {
    const m = PATTERN.exec(r.pattern);
    if (!m) return false;
    if (m[4] && Number(m[4].slice(1)) !== port) return false;
    const name = m[2]!;
    return m[1] ? host.endsWith(`.${name}`) : host === name;
  });
  if (!rule) {
    throw new WaybillError(
      'ERR_WAYBILL_EGRESS_DENIED',
      `${host}:${port} is not on this workspace's egress allowlist; allow it with \`waybill egress allow ${host}\``,
    );
  }
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(literal) && isPrivateAddress(literal) && !rule.allowPrivate) throw privateRefused(host, literal);
  return rule;
}

function privateRefused(host: string, address: string): WaybillError {
  return new WaybillError(
    'ERR_WAYBILL_EGRESS_DENIED',
    `${host} is a loopback, private or link-local address (${address}); allow it explicitly with \`waybill egress allow ${host} --private\` if it really is your own host`,
  );
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for sockets (net/tls `connect`) that refuses private addresses unless the rule allows
 * them: the check sees exactly the addresses the socket will use.
 */
export function guardedLookup(host: string, rule: EgressRule) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses;
      const bad = list.find((a) => isPrivateAddress(a.address));
      if (bad && !rule.allowPrivate) return callback(privateRefused(host, bad.address), []);
      if (options.all) return callback(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}
