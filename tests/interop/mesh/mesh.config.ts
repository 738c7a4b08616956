// GraphQL Mesh composes the REST server (rest.mjs) into a GraphQL supergraph that Hive Gateway
// serves: the peer the hub's portal query is compared with. REST_URL names the server.
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadJSONSchemaSubgraph } from '@omnigraph/json-schema';

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadJSONSchemaSubgraph('Catalogue', {
        endpoint: process.env.REST_URL ?? 'http://127.0.0.1:4100',
        operations: [
          {
            type: 'Query',
            field: 'datasets',
            path: '/datasets',
            method: 'GET',
            argTypeMap: { q: { type: 'string' }, assay: { type: 'string' }, genome: { type: 'string' }, first: { type: 'integer' } },
            queryParamArgMap: { q: 'q', assay: 'assay', genome: 'genome', first: 'first' },
            responseSchema: './datasets.schema.json',
          },
        ],
      }),
    },
  ],
});
