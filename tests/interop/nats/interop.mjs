// Drives the official NATS JavaScript clients against the same server as Catbird's .NET client.
// usage: node nats/interop.mjs <command> <natsUrl> [args...]; prints one JSON document on stdout.
import { connect, headers } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { createUser, fromSeed, fromPublic } from "@nats-io/nkeys";

const [command, url, ...args] = process.argv.slice(2);
const text = new TextDecoder();
const out = (value) => console.log(JSON.stringify(value));

async function withConnection(fn) {
  const nc = await connect({ servers: url, timeout: 5000 });
  try { return await fn(nc); } finally { await nc.drain(); }
}

switch (command) {
  case "kv-write": // <bucket>: create, put x twice and y, delete z
    await withConnection(async (nc) => {
      const kv = await new Kvm(nc).create(args[0], { history: 5 });
      await kv.put("x", "hello");
      await kv.put("x", "hello again");
      await kv.put("y", "world");
      await kv.put("z", "gone");
      await kv.delete("z");
      const status = await kv.status();
      out({ ok: true, history: status.history });
    });
    break;
  case "kv-read": // <bucket>: every key with its value and revision
    await withConnection(async (nc) => {
      const kv = await new Kvm(nc).open(args[0]);
      const keys = [];
      for await (const k of await kv.keys()) keys.push(k);
      keys.sort();
      const values = {};
      for (const k of keys) { const e = await kv.get(k); values[k] = { value: e?.string(), revision: e?.revision, operation: e?.operation }; }
      const deleted = await kv.get(args[1] ?? "deleted");
      out({ keys, values, deletedOperation: deleted?.operation ?? null });
    });
    break;
  case "kv-watch": // <bucket> <key>: waits until <key> changes, prints it
    await withConnection(async (nc) => {
      const kv = await new Kvm(nc).open(args[0]);
      const watch = await kv.watch({ key: args[1], include: "updates" });
      console.error("watching");
      for await (const e of watch) { out({ key: e.key, value: e.string(), revision: e.revision }); break; }
    });
    break;
  case "js-publish": // <stream> <subject>: creates the stream, publishes two messages with headers
    await withConnection(async (nc) => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: args[0], subjects: [args[1]] });
      const js = jetstream(nc);
      for (const i of [1, 2]) {
        const h = headers(); h.set("X-From", "js"); h.append("X-Multi", "a"); h.append("X-Multi", "b");
        await js.publish(args[1], `js-${i}`, { headers: h, msgID: `js-msg-${i}` });
      }
      out({ ok: true });
    });
    break;
  case "js-consume": // <stream> <count>: reads <count> messages with a durable consumer, printing data and headers
    await withConnection(async (nc) => {
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.add(args[0], { durable_name: "js-reader", ack_policy: AckPolicy.Explicit });
      const consumer = await jetstream(nc).consumers.get(args[0], "js-reader");
      const messages = [];
      for (let i = 0; i < Number(args[1]); i++) {
        const m = await consumer.next({ expires: 5000 });
        if (!m) break;
        messages.push({ subject: m.subject, data: m.string(), from: m.headers?.get("X-From") ?? null, multi: m.headers?.values("X-Multi") ?? [] });
        m.ack();
      }
      out({ messages });
    });
    break;
  case "nkey-new": { // prints a user seed and public key, and a signature of <nonce>
    const user = createUser();
    out({ seed: text.decode(user.getSeed()), publicKey: user.getPublicKey(), signature: Buffer.from(user.sign(new TextEncoder().encode(args[0] ?? "nonce"))).toString("base64") });
    break;
  }
  case "nkey-check": { // <seed> <publicKey> <nonce> <signatureBase64>: checks a key pair and signature made elsewhere
    const pair = fromSeed(new TextEncoder().encode(args[0]));
    const verified = fromPublic(args[1]).verify(new TextEncoder().encode(args[2]), Buffer.from(args[3], "base64"));
    out({ publicKey: pair.getPublicKey(), matches: pair.getPublicKey() === args[1], verified });
    break;
  }
  default:
    console.error(`unknown command ${command}`);
    process.exit(2);
}
