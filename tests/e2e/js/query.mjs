#!/usr/bin/env node
// Runs one SPARQL SELECT query with Comunica and prints its solutions as SPARQL 1.1 JSON results on stdout.
//
//   node query.mjs SOURCE QUERY
//
// SOURCE is a URL, optionally prefixed with a Comunica source type as on Comunica's command line:
// "sparql@http://127.0.0.1:8000/sparql" is a SPARQL endpoint (Comunica sends it the query); a bare URL
// such as "http://127.0.0.1:8000/bordeaux/proposals/" is an RDF document that Comunica fetches and queries.
// Errors go to stderr, with exit status 1.
import { QueryEngine } from '@comunica/query-sparql';

const XSD_STRING = 'http://www.w3.org/2001/XMLSchema#string';
const RDF_LANG_STRING = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString';

function parse(argv) {
  if (argv.length !== 2) throw new Error('usage: node query.mjs SOURCE QUERY');
  const match = /^([a-zA-Z]+)@(.+)$/.exec(argv[0]);
  return { source: match ? { type: match[1], value: match[2] } : argv[0], query: argv[1] };
}

function term(value) {
  switch (value.termType) {
    case 'NamedNode':
      return { type: 'uri', value: value.value };
    case 'BlankNode':
      return { type: 'bnode', value: value.value };
    case 'Literal': {
      const literal = { type: 'literal', value: value.value };
      if (value.language) literal['xml:lang'] = value.language;
      else if (![XSD_STRING, RDF_LANG_STRING].includes(value.datatype.value)) literal.datatype = value.datatype.value;
      return literal;
    }
    default:
      throw new Error(`unexpected term type ${value.termType}`);
  }
}

async function main(argv) {
  const { source, query } = parse(argv);
  const context = { sources: [source], lenient: false };
  const result = await new QueryEngine().query(query, context);
  if (result.resultType !== 'bindings') throw new Error(`not a SELECT query (${result.resultType} result)`);
  const bindings = [];
  for await (const solution of await result.execute()) {
    const row = {};
    for (const [variable, value] of solution) row[variable.value] = term(value);
    bindings.push(row);
  }
  const vars = (await result.metadata()).variables.map(variable => (variable.variable ?? variable).value);
  process.stdout.write(`${JSON.stringify({ head: { vars }, results: { bindings } })}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  error => {
    process.stderr.write(`${error && error.stack || error}\n`);
    process.exit(1);
  },
);
