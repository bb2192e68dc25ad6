// @opentdf/client 1.3.0 TDF3 (ZIP) client against Catbird's Kas.Api: key access "wrapped" for the KAS RSA key.
//   node kas/tdf3-client.mjs encrypt <kasUrl> <attribute> <outFile> <plaintext>
//   node kas/tdf3-client.mjs decrypt <kasUrl> <inFile>
// The bearer token is minted as in nano-client.mjs (ISSUER_KEY_PEM, SUBJECT, ENTITLEMENTS). Exit 2 = refused.
import dns from "node:dns";
import { readFile, writeFile } from "node:fs/promises";
import { SignJWT, importPKCS8 } from "jose";

// The TDF3 build imports streamsaver, which reads document.documentElement at load time; Node has no DOM.
globalThis.document ??= { documentElement: { style: {} } };
globalThis.window ??= { location: { href: "http://localhost/" } };
const { TDF3Client, EncryptParamsBuilder, DecryptParamsBuilder } = await import("@opentdf/client");

dns.setDefaultResultOrder("ipv4first");

const [command, kasUrl, ...rest] = process.argv.slice(2);

function authProvider() {
  let signingKey;
  return {
    async updateClientPublicKey(publicKeyBase64) {
      signingKey = publicKeyBase64;
    },
    async withCreds(request) {
      const issuer = await importPKCS8(process.env.ISSUER_KEY_PEM, "ES256");
      const claims = { entitlements: JSON.parse(process.env.ENTITLEMENTS ?? "[]") };
      if (signingKey) claims.tdf_claims = { client_public_signing_key: signingKey };
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", typ: "JWT" })
        .setSubject(process.env.SUBJECT ?? "anonymous")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(issuer);
      return { ...request, headers: { ...request.headers, Authorization: `Bearer ${token}` } };
    },
  };
}

try {
  const client = new TDF3Client({ kasEndpoint: kasUrl, authProvider: authProvider() });
  if (command === "encrypt") {
    const [attribute, outFile, plaintext] = rest;
    const params = new EncryptParamsBuilder().withStringSource(plaintext).withOffline().withAttributes([{ attribute }]).build();
    const stream = await client.encrypt(params);
    const bytes = await stream.toBuffer();
    await writeFile(outFile, bytes);
    console.log(`encrypted ${bytes.length} bytes`);
  } else if (command === "decrypt") {
    const [inFile] = rest;
    const bytes = await readFile(inFile);
    const params = new DecryptParamsBuilder().withBufferSource(bytes).build();
    const stream = await client.decrypt(params);
    console.log(await stream.toString());
  } else {
    console.error(`unknown command ${command}`);
    process.exit(64);
  }
} catch (error) {
  const causes = [];
  for (let e = error; e; e = e.cause) causes.push(String(e.message ?? e));
  console.log(`REFUSED: ${causes.join(" <- ")}`);
  process.exit(2);
}
