#!/usr/bin/env node
// The baseline of the no-code apps benchmark: what a user writes without Waybill — page through the
// app's REST API with its token and write every record as a line of JSON. No governance, no hashing.
//
//   node bench/apps-plain-pager.mjs directus URL COLLECTION FIELDS OUT      (token in APP_TOKEN)
//   node bench/apps-plain-pager.mjs nocodb URL TABLE_ID FIELDS OUT
//   node bench/apps-plain-pager.mjs directus-csv URL COLLECTION FIELDS OUT  (the app's own CSV export)
//   node bench/apps-plain-pager.mjs nocodb-csv URL BASE_ID/TABLE_ID - OUT     (the app's own CSV export)
// The https proxy's CA comes in through NODE_EXTRA_CA_CERTS.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const [mode, base, table, fields, outFile] = process.argv.slice(2);
const token = process.env.APP_TOKEN ?? '';
const headers = mode.startsWith('directus') ? { authorization: `Bearer ${token}` } : { 'xc-token': token };
const out = createWriteStream(outFile);
const write = async (s) => {
  if (!out.write(s)) await once(out, 'drain');
};
let n = 0;
async function get(url) {
  const r = await fetch(url, { headers });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r;
}
if (mode === 'directus') {
  for (let page = 1; ; page++) {
    const { data } = await (
      await get(`${base}/items/${table}?fields=${fields}&limit=1000&page=${page}&sort=id`)
    ).json();
    for (const r of data) await write(JSON.stringify(r) + '\n');
    n += data.length;
    if (data.length < 1000) break;
  }
} else if (mode === 'nocodb') {
  for (let offset = 0; ;) {
    const { list, pageInfo } = await (
      await get(
        `${base}/api/v2/tables/${table}/records?fields=${encodeURIComponent(fields)}&limit=1000&offset=${offset}`,
      )
    ).json();
    for (const r of list) await write(JSON.stringify(r) + '\n');
    n += list.length;
    offset += list.length;
    if (pageInfo?.isLastPage || list.length === 0) break;
  }
} else if (mode === 'directus-csv') {
  await write(
    await (await get(`${base}/items/${table}?fields=${fields}&limit=-1&sort=id&export=csv`)).text(),
  );
} else if (mode === 'nocodb-csv') {
  // NocoDB streams a view's CSV in chunks; `nc-export-offset` says where the next one starts.
  for (let offset = 0; offset >= 0;) {
    const r = await get(`${base}/api/v1/db/data/noco/${table}/export/csv?offset=${offset}`);
    await write(await r.text());
    const next = Number(r.headers.get('nc-export-offset') ?? -1);
    offset = next > offset ? next : -1;
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
out.end();
await once(out, 'finish');
process.stdout.write(JSON.stringify({ records: n }) + '\n');
