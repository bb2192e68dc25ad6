// @opentdf/client 1.3.0 (NanoTDFClient) against Catbird's Kas.Api.
//   node kas/nano-client.mjs encrypt <kasUrl> <attribute> <outFile> <plaintext>
//   node kas/nano-client.mjs decrypt <kasUrl> <inFile>
// decrypt mints its bearer token the way an OIDC provider of OpenTDF v1 would: an ES256 access token from the issuer
// key in ISSUER_KEY_PEM (PKCS#8) with sub = SUBJECT and tdf_claims.client_public_signing_key = the signing key the
// client hands to authProvider.updateClientPublicKey. Exit 0 prints the plaintext; exit 2 prints the refusal.
import dns from "node:dns";
import { readFile, writeFile } from "node:fs/promises";
import { SignJWT, importPKCS8 } from "jose";
import { NanoTDFClient } from "@opentdf/client/nano";

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
  if (command === "encrypt") {
    const [attribute, outFile, plaintext] = rest;
    const client = new NanoTDFClient(authProvider(), kasUrl);
    client.addAttribute(attribute);
    const nano = new Uint8Array(await client.encrypt(plaintext));
    await writeFile(outFile, nano);
    console.log(`encrypted ${nano.length} bytes`);
  } else if (command === "decrypt") {
    const [inFile] = rest;
    const bytes = await readFile(inFile);
    const client = new NanoTDFClient(authProvider(), kasUrl);
    const plaintext = await client.decrypt(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    console.log(new TextDecoder().decode(plaintext));
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
