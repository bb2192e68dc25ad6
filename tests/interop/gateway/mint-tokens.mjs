// Mints JWTs with jose for Cloud.Gateway's validator tests.
// Usage: node gateway/mint-tokens.mjs <issuer> <audience>
// Prints {jwks, rotatedJwks, tokens:{name: jwt}} as JSON.
import { generateKeyPair, exportJWK, SignJWT, exportSPKI, base64url } from 'jose';

const [issuer, audience] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);

const ed1 = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
const ed2 = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
const es = await generateKeyPair('ES256', { extractable: true });
const rs = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });

const pub = async (pair, kid, alg) => ({ ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' });
const jwks = { keys: [await pub(ed1, 'ed-1', 'EdDSA'), await pub(es, 'es-1', 'ES256'), await pub(rs, 'rs-1', 'RS256')] };
const rotatedJwks = { keys: [...jwks.keys, await pub(ed2, 'ed-2', 'EdDSA')] };

const sign = (claims, key, header) => new SignJWT({ uid: 'u-1', display_name: 'Alice', ...claims })
  .setProtectedHeader({ typ: 'JWT', ...header })
  .sign(key);
const base = { sub: 'alice»0001', iss: issuer, aud: audience, exp: now + 600 };

const tokens = {
  eddsa: await sign(base, ed1.privateKey, { alg: 'EdDSA', kid: 'ed-1' }),
  es256: await sign(base, es.privateKey, { alg: 'ES256', kid: 'es-1' }),
  rs256: await sign(base, rs.privateKey, { alg: 'RS256', kid: 'rs-1' }),
  rotated: await sign(base, ed2.privateKey, { alg: 'EdDSA', kid: 'ed-2' }),
  expired: await sign({ ...base, exp: now - 600 }, ed1.privateKey, { alg: 'EdDSA', kid: 'ed-1' }),
  withinLeeway: await sign({ ...base, exp: now - 5 }, ed1.privateKey, { alg: 'EdDSA', kid: 'ed-1' }),
  noExp: await new SignJWT({ sub: 'alice»0001', iss: issuer, aud: audience })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'ed-1' }).sign(ed1.privateKey),
  wrongAud: await sign({ ...base, aud: 'https://elsewhere.example' }, ed1.privateKey, { alg: 'EdDSA', kid: 'ed-1' }),
  wrongIss: await sign({ ...base, iss: 'https://evil.example' }, ed1.privateKey, { alg: 'EdDSA', kid: 'ed-1' }),
  // Signed by ed-1's key but claiming es-1's kid: the key type does not fit the algorithm.
  kidMismatch: await sign(base, ed1.privateKey, { alg: 'EdDSA', kid: 'es-1' }),
  // HS256 keyed with the public key as published (JWK x bytes and SPKI PEM text): the classic confusion attack.
  hs256PublicX: await sign(base, base64url.decode(jwks.keys[0].x), { alg: 'HS256', kid: 'ed-1' }),
  hs256PublicPem: await sign(base, new TextEncoder().encode(await exportSPKI(ed1.publicKey)), { alg: 'HS256', kid: 'ed-1' }),
};
const enc = (o) => base64url.encode(JSON.stringify(o));
tokens.algNone = `${enc({ alg: 'none', typ: 'JWT', kid: 'ed-1' })}.${enc(base)}.`;
// A valid EdDSA token with one payload byte changed (signature no longer matches).
const [h, p, s] = tokens.eddsa.split('.');
tokens.tampered = `${h}.${enc({ ...base, sub: 'mallory»0001' })}.${s}`;

process.stdout.write(JSON.stringify({ jwks, rotatedJwks, tokens }));
