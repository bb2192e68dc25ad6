// Mints AT Protocol inter-service JWTs with @atproto/crypto keys and @atproto/xrpc-server createServiceJwt.
// Usage: node mls/mint-service-jwt.mjs <aud> <lxm> <count>
// Prints JSON: { k256: {did, didKey, multikey, tokens: {...}}, p256: {...} }.
import * as crypto from "@atproto/crypto";
import { createServiceJwt } from "@atproto/xrpc-server";

const [aud, lxm, countText] = process.argv.slice(2);
const count = Number(countText ?? "3");
const now = Math.floor(Date.now() / 1000);

async function mint(keypair, did) {
  const valid = [];
  for (let i = 0; i < count; i++) {
    valid.push(await createServiceJwt({ iss: did, aud, lxm, keypair }));
  }
  return {
    did,
    didKey: keypair.did(),
    multikey: crypto.extractMultikey(keypair.did()),
    tokens: {
      valid,
      fragmentIssuer: await createServiceJwt({ iss: `${did}#atproto_labeler`, aud, lxm, keypair }),
      audWithFragment: await createServiceJwt({ iss: did, aud: `${aud}#atproto_mls`, lxm, keypair }),
      wrongAud: await createServiceJwt({ iss: did, aud: "did:web:other.example.com", lxm, keypair }),
      wrongLxm: await createServiceJwt({ iss: did, aud, lxm: "blue.catbird.mls.getConvos", keypair }),
      noLxm: await createServiceJwt({ iss: did, aud, lxm: null, keypair }),
      expired: await createServiceJwt({ iss: did, aud, lxm, exp: now - 5, keypair }),
      longLived: await createServiceJwt({ iss: did, aud, lxm, exp: now + 7200, keypair }),
    },
  };
}

const suffix = Math.random().toString(36).slice(2, 10).padEnd(8, "a");
const k256 = await crypto.Secp256k1Keypair.create();
const p256 = await crypto.P256Keypair.create();
const out = {
  k256: await mint(k256, `did:plc:k256${suffix}aaaaaaaaaaaa`),
  p256: await mint(p256, `did:plc:p256${suffix}aaaaaaaaaaaa`),
};
process.stdout.write(JSON.stringify(out));
