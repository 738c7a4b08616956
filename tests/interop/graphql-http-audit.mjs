// The GraphQL-over-HTTP server audit of graphql-http (the spec's reference implementation),
// run against a musubi server: `node graphql-http-audit.mjs http://127.0.0.1:8080/graphql`.
// Exits non-zero when any MUST or SHOULD audit fails.
import { auditServer } from 'graphql-http';

const results = await auditServer({ url: process.argv[2] });
for (const r of results.filter((r) => r.status !== 'ok')) {
  console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason ?? ''}`);
}
const count = (status) => results.filter((r) => r.status === status).length;
console.log(`graphql-http audit: ${count('ok')} ok, ${count('notice')} notice, ${count('warn')} warn, ${count('error')} error of ${results.length}`);
process.exit(count('error') + count('warn') > 0 ? 1 : 0);
