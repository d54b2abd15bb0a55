#!/usr/bin/env node
// Replicates a Linked Data Event Stream with ldes-client (strict: a page's tree:Node IRI must be its URL) and prints
// one JSON line per member as the client emits it, then one summary line of the HTTP requests it sent.
//
//   node ldes.mjs URL [--ordered ascending|descending|none] [--follow SECONDS] [--materialize]
//
// Each member line is {"member", "sequence", "type", "object", "published"}. With --follow the client keeps polling
// for SECONDS: a line {"synced": true} says the history has been read (the first poll cycle began), so a caller can
// write and wait for the new member; the summary then counts the requests sent after that line ("idleRequests")
// and the poll cycles ("polls").
// Errors go to stderr, with exit status 1.
import { replicateLDES } from 'ldes-client';

const DDS_SEQUENCE = 'https://w3id.org/dds/ns#sequence';
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
const AS_OBJECT = 'https://www.w3.org/ns/activitystreams#object';
const AS_PUBLISHED = 'https://www.w3.org/ns/activitystreams#published';

function parse(argv) {
  const options = { ordered: 'none', follow: 0, materialize: false };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--ordered') options.ordered = argv[++i];
    else if (argv[i] === '--follow') options.follow = Number(argv[++i]);
    else if (argv[i] === '--materialize') options.materialize = true;
    else rest.push(argv[i]);
  }
  if (rest.length !== 1 || !['ascending', 'descending', 'none'].includes(options.ordered)
      || !(options.follow >= 0)) {
    throw new Error('usage: node ldes.mjs URL [--ordered ascending|descending|none] [--follow SECONDS] [--materialize]');
  }
  return { url: rest[0], ...options };
}

function line(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function describe(member) {
  const values = {};
  for (const quad of member.quads) {
    if (quad.subject.equals(member.id)) values[quad.predicate.value] = quad.object.value;
  }
  const sequence = values[DDS_SEQUENCE];
  return {
    member: member.id.value,
    sequence: sequence === undefined ? null : Number(sequence),
    type: values[RDF_TYPE] ?? null,
    object: values[AS_OBJECT] ?? null,
    published: values[AS_PUBLISHED] ?? null,
  };
}

async function main(argv) {
  const options = parse(argv);
  const requests = { total: 0, idle: 0, polls: 0, synced: false };
  const counting = (input, init) => {
    requests.total++;
    if (requests.synced) requests.idle++;
    return fetch(input, init);
  };
  const client = replicateLDES({
    url: options.url, polling: options.follow > 0, materialize: options.materialize, fetch: counting,
  }, options.ordered);
  client.on('poll', () => {
    requests.polls++;
    if (!requests.synced) line({ synced: true });
    requests.synced = true;
  });
  const reader = client.stream({ highWaterMark: 10 }).getReader();
  let timer;
  if (options.follow > 0) timer = setTimeout(() => reader.cancel(), options.follow * 1000);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    line(describe(value));
  }
  clearTimeout(timer);
  line({ requests: requests.total, idleRequests: requests.idle, polls: requests.polls });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  error => {
    process.stderr.write(`${error && error.stack || error}\n`);
    process.exit(1);
  },
);
