import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Faker, base, en, en_US } from '@faker-js/faker';

export interface SeedOptions {
  readonly customers: number;
  readonly orders: number;
  /** Same seed, same database, byte for byte in content. */
  readonly seed?: number;
}

const COUNTRIES = ['US', 'US', 'US', 'CA', 'CA', 'GB', 'DE', 'FR', 'MX', 'BR', 'IN', 'JP', 'AU'];

/**
 * Seeds a synthetic no-code CRM (tables `customers`, `orders`) into a fresh SQLite file, deterministically
 * from a seeded faker. Notes are free text that sometimes embeds an email or a phone number, as real CRM
 * notes do — the kind of PII nobody classified.
 */
export async function seedCrm(path: string, o: SeedOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true });
  await rm(`${path}-wal`, { force: true });
  await rm(`${path}-shm`, { force: true });
  const f = new Faker({ locale: [en_US, en, base] });
  f.seed(o.seed ?? 20261129);
  const ref = new Date('2026-11-01T00:00:00Z');
  const db = new BetterSqlite3(path);
  try {
    db.exec(`
      CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        phone TEXT,
        ssn TEXT,
        birth_date TEXT,
        country TEXT NOT NULL,
        lifetime_value REAL NOT NULL,
        notes TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        ordered_at TEXT NOT NULL,
        amount REAL NOT NULL,
        status TEXT NOT NULL,
        notes TEXT
      );`);
    const insC = db.prepare('INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?)');
    const insO = db.prepare('INSERT INTO orders VALUES (?,?,?,?,?,?)');
    db.transaction(() => {
      for (let i = 1; i <= o.customers; i++) {
        const first = f.person.firstName();
        const last = f.person.lastName();
        const email = f.internet.email({ firstName: first, lastName: last }).toLowerCase();
        const phone = f.phone.number({ style: 'national' });
        // SSNs in the 9xx area, which the SSA never issues: realistic shape, never a real person's.
        const ssn = `9${f.string.numeric(2)}-${f.string.numeric(2)}-${f.string.numeric(4)}`;
        const birth = f.date
          .birthdate({ mode: 'age', min: 18, max: 90, refDate: ref })
          .toISOString()
          .slice(0, 10);
        const ltv = Math.round(f.number.float({ min: 0, max: 25000 }) * 100) / 100;
        const r = f.number.int(9);
        const notes =
          r === 0
            ? `Asked to be reached at ${f.internet.email().toLowerCase()} instead.`
            : r === 1
              ? `Call back on ${f.phone.number({ style: 'national' })} after 5pm.`
              : r < 5
                ? f.lorem.sentence()
                : null;
        const updated = f.date.recent({ days: 365, refDate: ref }).toISOString();
        insC.run(
          i,
          `${first} ${last}`,
          email,
          phone,
          ssn,
          birth,
          f.helpers.arrayElement(COUNTRIES),
          ltv,
          notes,
          updated,
        );
      }
      for (let i = 1; i <= o.orders; i++) {
        insO.run(
          i,
          f.number.int({ min: 1, max: o.customers }),
          f.date.recent({ days: 720, refDate: ref }).toISOString(),
          Math.round(f.number.float({ min: 5, max: 2000 }) * 100) / 100,
          f.helpers.arrayElement(['paid', 'paid', 'paid', 'refunded', 'pending']),
          f.number.int(19) === 0 ? `Gift for ${f.person.fullName()}` : null,
        );
      }
    })();
  } finally {
    db.close();
  }
}
