#!/usr/bin/env node
// PII detectors (issue "know the data", Measured): precision and recall per detector on a labelled,
// seeded synthetic corpus of structured values (each with its column name) that includes tricky
// negatives — order numbers that look like SSNs, ISBNs that pass Luhn, dates that are not birth dates —
// and the free-text scanning throughput on one core. Targets: precision >= 0.98 and recall >= 0.95 on
// structured fields; >= 50 MB/s of free text per core.
//
//   node bench/run.mjs detectors      (after `npx tsc -b`)
//   DETECTORS_BENCH_NO_WRITE=1 node bench/detectors-bench.mjs
import { availableParallelism, cpus, totalmem } from 'node:os';
import { faker } from '@faker-js/faker';
import { classifyValue, findPii } from '@waybill/core';
import { writeSection } from './benchmarks-md.mjs';

faker.seed(20261129);
const noWrite = process.env.DETECTORS_BENCH_NO_WRITE === '1';
const log = (m) => process.stderr.write(`[bench:detectors] ${m}\n`);
const pick = (xs) => xs[faker.number.int({ min: 0, max: xs.length - 1 })];
const digits = (n) => faker.string.numeric({ length: n, allowLeadingZeros: true });

function luhnCheckDigit(body) {
  let sum = 0;
  for (let i = body.length - 1, dbl = true; i >= 0; i--, dbl = !dbl) {
    let d = Number(body[i]);
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}
const luhnOk = (s) => luhnCheckDigit(s.slice(0, -1)) === s.at(-1);

function nanp() {
  const first = () => String(faker.number.int({ min: 2, max: 9 }));
  let area, exch;
  do area = first() + digits(2);
  while (area.slice(1) === '11');
  do exch = first() + digits(2);
  while (exch.slice(1) === '11');
  const line = digits(4);
  return pick([
    `(${area}) ${exch}-${line}`,
    `${area}-${exch}-${line}`,
    `${area}.${exch}.${line}`,
    `+1 ${area} ${exch} ${line}`,
    `${area}${exch}${line}`,
  ]);
}
// Numbers of four other numbering plans, with their real lengths: London, Berlin, Paris, Sydney.
const international = () =>
  pick([
    () => `+44 20 7946 0${digits(3)}`,
    () => `+49 30 ${digits(8)}`,
    () => `+33 1 ${digits(2)} ${digits(2)} ${digits(2)} ${digits(2)}`,
    () => `+61 2 9${digits(3)} ${digits(4)}`,
  ])();

function ssn() {
  let area;
  do area = String(faker.number.int({ min: 1, max: 899 })).padStart(3, '0');
  while (area === '666');
  const group = String(faker.number.int({ min: 1, max: 99 })).padStart(2, '0');
  const serial = String(faker.number.int({ min: 1, max: 9999 })).padStart(4, '0');
  const sep = pick(['-', ' ', '.', '-', '-']);
  return `${area}${sep}${group}${sep}${serial}`;
}

function card() {
  const [prefix, len] = pick([
    ['4', 16],
    ['51', 16],
    ['55', 16],
    ['2221', 16],
    ['34', 15],
    ['37', 15],
    ['6011', 16],
  ]);
  const body = prefix + digits(len - prefix.length - 1);
  const n = body + luhnCheckDigit(body);
  if (faker.datatype.boolean()) return n;
  return len === 15
    ? `${n.slice(0, 4)} ${n.slice(4, 10)} ${n.slice(10)}`
    : n.replace(/(\d{4})(?=\d)/g, '$1 ');
}

function iban() {
  const [cc, len] = pick([
    ['DE', 22],
    ['GB', 22],
    ['FR', 27],
    ['NL', 18],
    ['ES', 24],
    ['IT', 27],
  ]);
  const bban =
    cc === 'GB'
      ? faker.string.alpha({ length: 4, casing: 'upper' }) + digits(14)
      : cc === 'NL'
        ? faker.string.alpha({ length: 4, casing: 'upper' }) + digits(10)
        : cc === 'IT'
          ? faker.string.alpha({ length: 1, casing: 'upper' }) + digits(22)
          : digits(len - 4);
  const numeric = (bban + cc + '00').replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const ch of numeric) rest = (rest * 10 + Number(ch)) % 97;
  const check = String(98 - rest).padStart(2, '0');
  const compact = cc + check + bban;
  return faker.datatype.boolean() ? compact : compact.replace(/(.{4})(?=.)/g, '$1 ');
}

const ipv4 = () => faker.internet.ipv4();
const ipv6 = () => faker.internet.ipv6();
const pastDate = (from, to) => faker.date.between({ from, to }).toISOString().slice(0, 10);

function isbnPassingLuhn() {
  for (;;) {
    const body = pick(['978', '979']) + digits(9);
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += Number(body[i]) * (i % 2 === 0 ? 1 : 3);
    const isbn = body + String((10 - (sum % 10)) % 10);
    if (luhnOk(isbn))
      return faker.datatype.boolean()
        ? isbn
        : `${isbn.slice(0, 3)}-${isbn.slice(3, 4)}-${isbn.slice(4, 7)}-${isbn.slice(7, 12)}-${isbn.slice(12)}`;
  }
}

/** The corpus: [column, value, label] with label a PII kind or null. */
function corpus() {
  const items = [];
  const add = (n, columns, make, label) => {
    for (let i = 0; i < n; i++) items.push([pick(columns), make(), label]);
  };
  add(1500, ['email', 'customer_email', 'contact'], () => faker.internet.email(), 'email');
  add(300, ['value', 'field_7'], () => faker.internet.email(), 'email');
  add(1200, ['phone', 'mobile', 'telephone', 'contact_phone'], nanp, 'phone');
  add(300, ['phone', 'mobile'], international, 'phone');
  add(1200, ['ssn', 'social_security_number'], ssn, 'national_id');
  add(300, ['tax_id', 'value'], () => ssn().replace(/ /g, '-'), 'national_id');
  add(1000, ['card_number', 'cc', 'payment_card'], card, 'card_number');
  add(800, ['iban', 'account_iban', 'value'], iban, 'iban');
  add(500, ['ip', 'client_ip', 'remote_addr'], ipv4, 'ip_address');
  add(300, ['ip', 'client_ip'], ipv6, 'ip_address');
  add(800, ['birth_date', 'dob', 'date_of_birth'], () => pastDate('1930-01-01', '2010-12-31'), 'birth_date');
  // Tricky negatives.
  add(600, ['order_number', 'order_ref', 'invoice'], () => `${digits(3)}-${digits(2)}-${digits(4)}`, null);
  add(300, ['ref', 'code'], () => pick(['SO-', 'ORD-', '#', 'INV/']) + ssn().replace(/[ .]/g, '-'), null);
  add(300, ['order_id', 'code'], () => digits(9), null);
  add(600, ['isbn', 'code', 'item'], isbnPassingLuhn, null);
  add(
    600,
    ['shipped_at', 'created_at', 'order_date', 'updated'],
    () => pastDate('1950-01-01', '2026-01-01'),
    null,
  );
  add(
    300,
    ['version', 'build'],
    () =>
      `${faker.number.int(9)}.${faker.number.int(20)}.${faker.number.int(50)}.${faker.number.int(999)}.${faker.number.int(9)}`,
    null,
  );
  add(400, ['amount', 'total', 'price'], () => faker.finance.amount({ min: 1, max: 99999 }), null);
  add(300, ['sku', 'product_code'], () => faker.string.alphanumeric({ length: 12, casing: 'upper' }), null);
  add(
    300,
    ['status', 'country', 'plan'],
    () => pick(['shipped', 'pending', 'US', 'DE', 'pro', 'free']),
    null,
  );
  add(300, ['tracking_number', 'code'], () => digits(pick([12, 14, 16, 18, 20])), null);
  add(200, ['zip', 'quantity', 'count'], () => digits(5), null);
  add(300, ['id', 'uuid'], () => faker.string.uuid(), null);
  return items;
}

function score(items) {
  const kinds = ['email', 'phone', 'national_id', 'card_number', 'iban', 'ip_address', 'birth_date'];
  const t = Object.fromEntries(kinds.map((k) => [k, { tp: 0, fp: 0, fn: 0 }]));
  const mistakes = [];
  for (const [column, value, label] of items) {
    const got = classifyValue(column, value) ?? null;
    const predicted = kinds.includes(got) ? got : null;
    if (predicted === label) {
      if (label) t[label].tp++;
      continue;
    }
    if (predicted) t[predicted].fp++;
    if (label) t[label].fn++;
    if (mistakes.length < 12)
      mistakes.push({
        column,
        shape: value.replace(/[a-z]/g, 'x').replace(/[A-Z]/g, 'X').replace(/\d/g, '0'),
        label,
        predicted,
      });
  }
  return { table: t, mistakes };
}

function notesText(bytes) {
  const parts = [];
  let n = 0;
  while (n < bytes) {
    let s = faker.lorem.sentence({ min: 6, max: 18 });
    const r = faker.number.int(99);
    if (r < 6) s += ` Reach me at ${faker.internet.email()}.`;
    else if (r < 12) s += ` Call back on ${nanp()}.`;
    else if (r < 14) s += ` Order ${digits(6)} shipped on ${pastDate('2024-01-01', '2026-01-01')}.`;
    else if (r < 15) s += ` SSN on file ${ssn()}.`;
    parts.push(s);
    n += s.length + 1;
  }
  return parts.join(' ');
}

function throughput(text) {
  findPii(text.slice(0, 1_000_000));
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const spans = findPii(text);
    const ms = performance.now() - t0;
    runs.push({ mbps: Buffer.byteLength(text) / 1e6 / (ms / 1000), spans: spans.length });
  }
  runs.sort((a, b) => a.mbps - b.mbps);
  return runs[2];
}

const items = corpus();
log(`corpus: ${items.length} labelled values (${items.filter((i) => i[2] === null).length} negatives)`);
const { table, mistakes } = score(items);
const text = notesText(32 * 1024 * 1024);
const speed = throughput(text);
log(`free text: ${speed.mbps.toFixed(1)} MB/s, ${speed.spans} spans`);

const rows = Object.entries(table).map(([k, c]) => {
  const precision = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
  return { k, ...c, precision, recall };
});
for (const r of rows)
  log(
    `${r.k}: precision ${r.precision.toFixed(4)} recall ${r.recall.toFixed(4)} (tp ${r.tp} fp ${r.fp} fn ${r.fn})`,
  );
const met = (r) => (r.precision >= 0.98 && r.recall >= 0.95 ? 'met' : 'NOT met');
const body = [
  `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Date: ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '## PII detectors: precision and recall on structured fields',
  '',
  `A seeded synthetic corpus of ${items.length.toLocaleString('en-US')} labelled values, each with the name of its column (what`,
  '`catalog scan` and `def apply` see), ' +
    `${items.filter((i) => i[2] === null).length.toLocaleString('en-US')} of them tricky negatives: order numbers and`,
  'references shaped like SSNs (`123-45-6789` in an `order_number` column, `SO-123-45-6789`), bare 9-digit ids,',
  'ISBN-13s that pass Luhn, dates that are not birth dates (`shipped_at`), version strings, amounts, tracking',
  'numbers, zip codes, UUIDs. Positives: emails, North American and international phones, SSNs with dashes,',
  'spaces or dots, card numbers of seven issuer ranges (grouped or not), IBANs of six countries, IPv4 and IPv6',
  'addresses, birth dates. `classifyValue(column, value)` decides each.',
  '',
  '| detector | true positives | false positives | false negatives | precision | recall | target (P ≥ 0.98, R ≥ 0.95) |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.k} | ${r.tp} | ${r.fp} | ${r.fn} | ${r.precision.toFixed(4)} | ${r.recall.toFixed(4)} | ${met(r)} |`,
  ),
  '',
  mistakes.length === 0
    ? 'No value was misclassified.'
    : `Misclassified values (shapes only; letters as x/X, digits as 0): ${mistakes.map((m) => `\`${m.column}\` \`${m.shape}\` (${m.label ?? 'none'} → ${m.predicted ?? 'none'})`).join('; ')}.`,
  '',
  '## PII detectors: free-text throughput',
  '',
  `\`findPii\` over ${(Buffer.byteLength(text) / 2 ** 20).toFixed(0)} MiB of support-note-like text (sentences, about one in`,
  'seven with an email, a phone number, an order number with a date, or an SSN), one core, median of 5 runs:',
  '',
  '| MB/s | spans found | target |',
  '|---|---|---|',
  `| ${speed.mbps.toFixed(1)} | ${speed.spans.toLocaleString('en-US')} | ≥ 50 MB/s per core: ${speed.mbps >= 50 ? 'met' : 'NOT met'} |`,
].join('\n');
if (noWrite) process.stdout.write(body + '\n');
else writeSection('detectors', body);
