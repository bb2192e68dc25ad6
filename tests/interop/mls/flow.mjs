// The MLS acceptance flow with real ts-mls clients against Catbird's Mls.Api, authenticated with real
// @atproto/xrpc-server service JWTs.
// usage: node mls/flow.mjs <baseUrl> <serviceDid> <accounts.json> <cipherSuiteName>
//   accounts.json: [{ "did": "...", "privateKeyHex": "..." } x3] (secp256k1 keys whose DID documents the test serves)
// Prints one JSON line with what each client decrypted and how the commit race ended; exits 1 on any failure.
import { readFileSync } from "node:fs";
import * as crypto from "@atproto/crypto";
import { createServiceJwt } from "@atproto/xrpc-server";
import {
  getCiphersuiteImpl, getCiphersuiteFromName, generateKeyPackage, defaultCapabilities, defaultLifetime, createGroup,
  createCommit, joinGroup, createApplicationMessage, processMessage, acceptAll, encodeMlsMessage, decodeMlsMessage, emptyPskIndex,
  createGroupInfoWithExternalPub,
} from "ts-mls";
import { decodeKeyPackage } from "ts-mls/keyPackage.js";

const [baseUrl, serviceDid, accountsPath, suiteName] = process.argv.slice(2);
const accounts = JSON.parse(readFileSync(accountsPath, "utf8"));
const impl = await getCiphersuiteImpl(getCiphersuiteFromName(suiteName));
const te = new TextEncoder(), td = new TextDecoder();
const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const unb64 = (text) => new Uint8Array(Buffer.from(text, "base64"));
const hex = (bytes) => Buffer.from(bytes).toString("hex");

function fail(message, detail) { console.error(message, detail ?? ""); process.exit(1); }

class Client {
  constructor(name, account, keypair) { this.name = name; this.did = account.did; this.keypair = keypair; this.state = undefined; this.received = []; }
  async call(method, nsid, { query, body, expect = 200 } = {}) {
    const token = await createServiceJwt({ iss: this.did, aud: serviceDid, lxm: nsid, keypair: this.keypair });
    const url = `${baseUrl}/xrpc/${nsid}${query ? "?" + new URLSearchParams(query) : ""}`;
    const response = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await response.text();
    const json = text ? JSON.parse(text) : {};
    if (response.status !== expect) fail(`${this.name} ${nsid}: expected ${expect}, got ${response.status}`, text);
    return json;
  }
  async publishKeyPackage() {
    const kp = await generateKeyPackage({ credentialType: "basic", identity: te.encode(this.did) }, defaultCapabilities(), defaultLifetime, [], impl);
    this.keyPackage = kp;
    await this.call("POST", "blue.catbird.mls.publishKeyPackage", { body: { keyPackage: b64(encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: kp.publicPackage })), cipherSuite: suiteName } });
  }
  async fetchKeyPackage(did) {
    const out = await this.call("GET", "blue.catbird.mls.getKeyPackages", { query: { dids: did, cipherSuite: suiteName } });
    const ref = out.keyPackages.find((k) => k.did === did) ?? fail(`no key package for ${did}`, out);
    // The service hands key packages out bare (as OpenMLS serialises them) or as an MLSMessage: accept both.
    // Decoding the wrong form can throw rather than return undefined, so each attempt is guarded, and a form counts
    // only when it consumes every byte.
    const bytes = unb64(ref.keyPackage);
    const attempt = (decode) => { try { const r = decode(); return r && r[1] === bytes.length ? r[0] : undefined; } catch { return undefined; } };
    const keyPackage = attempt(() => decodeKeyPackage(bytes, 0))
      ?? attempt(() => { const r = decodeMlsMessage(bytes, 0); return r && [r[0].keyPackage, r[1]]; })
      ?? fail(`undecodable key package for ${did}`);
    return { keyPackage, hash: ref.keyPackageHash };
  }
  async join(convoId) {
    const out = await this.call("GET", "blue.catbird.mls.getWelcome", { query: { convoId } });
    const [msg] = decodeMlsMessage(unb64(out.welcome), 0);
    this.state = await joinGroup(msg.welcome, this.keyPackage.publicPackage, this.keyPackage.privatePackage, emptyPskIndex, impl);
    await this.call("POST", "blue.catbird.mls.confirmWelcome", { body: { convoId, success: true } });
  }
  async send(convoId, text) {
    const m = await createApplicationMessage(this.state, te.encode(text), impl);
    this.state = m.newState;
    const bytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage: m.privateMessage });
    // The lexicon's size buckets: the MLSMessage is zero-padded to 512, 1024, … bytes (readers stop at its end).
    let padded = 512;
    while (padded < bytes.length) padded = padded < 8192 ? padded * 2 : padded + 8192;
    const body = new Uint8Array(padded);
    body.set(bytes);
    await this.call("POST", "blue.catbird.mls.sendMessage", { body: { convoId, msgId: globalThis.crypto.randomUUID(), ciphertext: { $bytes: b64(body) },
      epoch: Number(this.state.groupContext.epoch), declaredSize: bytes.length, paddedSize: padded } });
  }
  // Reads everything after the cursor in seq order: applies commits, decrypts application messages.
  async catchUp(convoId) {
    this.cursor ??= "0";
    for (;;) {
      const out = await this.call("GET", "blue.catbird.mls.getMessages", { query: { convoId, cursor: this.cursor, limit: 50 } });
      for (const message of out.messages) {
        this.cursor = String(message.seq);
        if (message.sender === this.did) continue;
        const [msg] = decodeMlsMessage(unb64(message.ciphertext.$bytes), 0);
        if (BigInt(message.epoch) < this.state.groupContext.epoch) continue; // from before we joined
        const framed = msg.privateMessage ?? msg.publicMessage;
        const result = await processMessage(msg, this.state, emptyPskIndex, acceptAll, impl);
        this.state = result.newState;
        if (result.kind === "applicationMessage") this.received.push(td.decode(result.message));
        void framed;
      }
      if (out.messages.length < 50) return;
    }
  }
  leafIndexOf(did) {
    const tree = this.state.ratchetTree;
    for (let i = 0; i < tree.length; i += 2) if (tree[i]?.nodeType === "leaf" && td.decode(tree[i].leaf.credential.identity) === did) return i / 2;
    fail(`${did} is not in ${this.name}'s tree`);
  }
}

const names = ["alice", "bob", "carol"];
const clients = await Promise.all(accounts.map(async (a, i) => new Client(names[i], a, await crypto.Secp256k1Keypair.import(a.privateKeyHex))));
const [alice, bob, carol] = clients;
for (const c of clients) await c.publishKeyPackage();

// alice creates the conversation with bob (commit + welcome); bob joins from the welcome.
const groupId = crypto.randomBytes(16);
alice.state = await createGroup(groupId, alice.keyPackage.publicPackage, alice.keyPackage.privatePackage, [], impl);
const bobKp = await alice.fetchKeyPackage(bob.did);
const first = await createCommit({ state: alice.state, cipherSuite: impl }, { extraProposals: [{ proposalType: "add", add: { keyPackage: bobKp.keyPackage } }], ratchetTreeExtension: true });
alice.state = first.newState;
const convo = await alice.call("POST", "blue.catbird.mls.createConvo", { body: {
  groupId: hex(groupId), cipherSuite: suiteName, initialMembers: [bob.did], keyPackageHashes: [{ did: bob.did, hash: bobKp.hash }],
  welcomeMessage: b64(encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: first.welcome })), currentEpoch: Number(alice.state.groupContext.epoch) } });
const convoId = convo.id;
await bob.join(convoId);
bob.cursor = "0";

await alice.send(convoId, "hello bob");
await bob.catchUp(convoId);

// alice adds carol through addMembers (commit + welcome); bob applies the commit; carol joins.
const carolKp = await alice.fetchKeyPackage(carol.did);
const add = await createCommit({ state: alice.state, cipherSuite: impl }, { extraProposals: [{ proposalType: "add", add: { keyPackage: carolKp.keyPackage } }], ratchetTreeExtension: true });
await alice.call("POST", "blue.catbird.mls.addMembers", { body: { convoId, didList: [carol.did], commit: b64(encodeMlsMessage(add.commit)),
  welcomeMessage: b64(encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: add.welcome })), keyPackageHashes: [{ did: carol.did, hash: carolKp.hash }] } });
alice.state = add.newState;
await bob.catchUp(convoId);
await carol.join(convoId);
const joinedAt = await carol.call("GET", "blue.catbird.mls.getMessages", { query: { convoId, limit: 100 } });
carol.cursor = String(joinedAt.messages.at(-1)?.seq ?? 0);

await bob.send(convoId, "hi all, from bob");
await alice.catchUp(convoId);
await carol.catchUp(convoId);

// A race: alice and bob both commit (removing carol) at the same epoch. Exactly one wins; the loser catches up.
const aliceRemove = await createCommit({ state: alice.state, cipherSuite: impl }, { extraProposals: [{ proposalType: "remove", remove: { removed: alice.leafIndexOf(carol.did) } }] });
const bobRemove = await createCommit({ state: bob.state, cipherSuite: impl }, { extraProposals: [{ proposalType: "remove", remove: { removed: bob.leafIndexOf(carol.did) } }] });
const results = await Promise.all([
  fetchRaw(alice, { convoId, targetDid: carol.did, commit: b64(encodeMlsMessage(aliceRemove.commit)) }),
  fetchRaw(bob, { convoId, targetDid: carol.did, commit: b64(encodeMlsMessage(bobRemove.commit)) }),
]);
const winners = results.filter((r) => r.status === 200).length;
const losers = results.filter((r) => r.status === 409).length;
if (winners !== 1 || losers !== 1) fail("the commit race did not resolve to one winner", results);
const [winner, loser, winnerCommit] = results[0].status === 200 ? [alice, bob, aliceRemove] : [bob, alice, bobRemove];
winner.state = winnerCommit.newState;
const commits = await loser.call("GET", "blue.catbird.mls.getCommits", { query: { convoId, fromEpoch: String(loser.state.groupContext.epoch) } });
for (const c of commits.commits) {
  const [msg] = decodeMlsMessage(unb64(c.commitData.$bytes), 0);
  loser.state = (await processMessage(msg, loser.state, emptyPskIndex, acceptAll, impl)).newState;
}
if (loser.state.groupContext.epoch !== winner.state.groupContext.epoch) fail("the loser did not catch up", { loser: String(loser.state.groupContext.epoch), winner: String(winner.state.groupContext.epoch) });
loser.cursor = String((await loser.call("GET", "blue.catbird.mls.getMessages", { query: { convoId, limit: 100 } })).messages.at(-1).seq);

// The winner publishes the current GroupInfo (for external joins); a stale epoch is refused; the loser reads it back.
const groupInfo = await createGroupInfoWithExternalPub(winner.state, [], impl);
const groupInfoBytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_group_info", groupInfo });
const epochNow = Number(winner.state.groupContext.epoch);
await winner.call("POST", "blue.catbird.mls.updateGroupInfo", { body: { convoId, groupInfo: b64(groupInfoBytes), epoch: epochNow } });
await winner.call("POST", "blue.catbird.mls.updateGroupInfo", { body: { convoId, groupInfo: b64(groupInfoBytes), epoch: epochNow - 1 }, expect: 400 });
const fetched = await loser.call("GET", "blue.catbird.mls.getGroupInfo", { query: { convoId } });
const [fetchedInfo] = decodeMlsMessage(unb64(fetched.groupInfo), 0);
if (fetched.epoch !== epochNow || fetchedInfo.groupInfo.groupContext.epoch !== winner.state.groupContext.epoch) fail("getGroupInfo returned another epoch", fetched);

await winner.send(convoId, "carol has left");
await loser.catchUp(convoId);
await carol.call("GET", "blue.catbird.mls.getMessages", { query: { convoId }, expect: 403 });

console.log(JSON.stringify({
  convoId, epoch: Number(alice.state.groupContext.epoch), raceWinner: winner.name,
  received: Object.fromEntries(clients.map((c) => [c.name, c.received])),
}));

async function fetchRaw(client, body) {
  const nsid = "blue.catbird.mls.leaveConvo";
  const token = await createServiceJwt({ iss: client.did, aud: serviceDid, lxm: nsid, keypair: client.keypair });
  const response = await fetch(`${baseUrl}/xrpc/${nsid}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.text() };
}
