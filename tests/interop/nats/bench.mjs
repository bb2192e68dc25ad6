// The official NATS client's side of bench/nats: same tests, same server. usage: node nats/bench.mjs (from tests/interop) <url> <messages>
import { connect } from "@nats-io/transport-node";

const [url, count] = process.argv.slice(2);
const messages = Number(count);
const payload = new Uint8Array(16);
const now = () => performance.now() / 1000;

async function publishOnly() {
  const nc = await connect({ servers: url });
  const start = now();
  for (let i = 0; i < messages; i++) nc.publish("bench.pub", payload);
  await nc.flush();
  const rate = messages / (now() - start);
  await nc.close();
  return rate;
}

async function pubSub() {
  const sub = await connect({ servers: url });
  const pub = await connect({ servers: url });
  let received = 0;
  const done = new Promise((resolve) => {
    const s = sub.subscribe("bench.pubsub", { callback: () => { if (++received === messages) resolve(); } });
  });
  await sub.flush();
  const start = now();
  for (let i = 0; i < messages; i++) pub.publish("bench.pubsub", payload);
  await pub.flush();
  await done;
  const rate = messages / (now() - start);
  await sub.close(); await pub.close();
  return rate;
}

async function requestReply(concurrency) {
  const service = await connect({ servers: url });
  const client = await connect({ servers: url });
  service.subscribe("bench.echo", { callback: (_, m) => m.respond(m.data) });
  await service.flush();
  await client.request("bench.echo", payload);
  let total = 0;
  const start = now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (now() - start < 3) { await client.request("bench.echo", payload, { timeout: 5000 }); total++; }
  }));
  const rate = total / (now() - start);
  await service.close(); await client.close();
  return rate;
}

const result = { publish: await publishOnly(), pubsub: await pubSub(), request1: await requestReply(1), request32: await requestReply(32) };
console.log(JSON.stringify(result));
