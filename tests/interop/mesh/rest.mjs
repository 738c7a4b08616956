// The Mesh peer's partner: a plain JSON REST server over the NBDC pages `musubi-bench gen` writes, with
// an inverted index for the portal's keyword and facet filters (so the comparison measures the
// GraphQL layer, not a linear scan). Usage: node rest.mjs <catalogue>/humandbs <port>
import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [dir, port = '0'] = process.argv.slice(2);
const items = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  for (const r of JSON.parse(readFileSync(join(dir, file), 'utf8'))) {
    const e = r.experiments[0];
    items.push({
      id: `https://w3id.org/musubi/dataset/${r.datasetId}`,
      accession: r.datasetId,
      title: [e.header.en.text, e.header.ja.text],
      description: [e.data['Sample Description'].en.text, e.data['Sample Description'].ja.text],
      accessLevel: r.criteria,
      releaseDate: r.releaseDate,
      subjectCount: e.searchable.subjectCount,
      assays: e.searchable.assayType,
      platforms: e.searchable.platforms.map((p) => `${p.vendor} ${p.model}`),
      referenceGenomes: e.searchable.referenceGenome,
      keywords: [r.typeOfData.en, r.typeOfData.ja],
      sources: ['nbdc'],
    });
  }
}
const words = (text) => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
const index = new Map();
const add = (key, i) => { let s = index.get(key); if (!s) index.set(key, (s = [])); if (s[s.length - 1] !== i) s.push(i); };
items.forEach((it, i) => {
  for (const t of [...it.title, ...it.description, ...it.keywords]) for (const w of words(t)) add(`w:${w}`, i);
  for (const a of it.assays) add(`assay:${a}`, i);
  for (const g of it.referenceGenomes) add(`genome:${g}`, i);
});
const intersect = (a, b) => { const s = new Set(b); return a.filter((x) => s.has(x)); };

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/datasets') { res.writeHead(404).end(); return; }
  let hits = null;
  const q = url.searchParams.get('q');
  for (const w of q ? words(q) : []) hits = hits ? intersect(hits, index.get(`w:${w}`) ?? []) : (index.get(`w:${w}`) ?? []);
  for (const [param, prefix] of [['assay', 'assay:'], ['genome', 'genome:']]) {
    const v = url.searchParams.get(param);
    if (v) hits = hits ? intersect(hits, index.get(prefix + v) ?? []) : (index.get(prefix + v) ?? []);
  }
  hits ??= items.map((_, i) => i);
  const first = Math.min(Number(url.searchParams.get('first') ?? 20), 100);
  const body = JSON.stringify({ totalCount: hits.length, nodes: hits.slice(0, first).map((i) => items[i]) });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
server.listen(Number(port), '127.0.0.1', () => console.log(`rest http://127.0.0.1:${server.address().port}/datasets (${items.length} datasets)`));
