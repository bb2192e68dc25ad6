// Validates an Aspire manifest against the Aspire 8.0 JSON schema with ajv (draft-07).
// usage: node manifest/validate.mjs <schema.json> <manifest.json>
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const [schemaPath, manifestPath] = process.argv.slice(2);
if (!schemaPath || !manifestPath) {
  console.error("usage: validate.mjs <schema.json> <manifest.json>");
  process.exit(2);
}

const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
if (validate(manifest)) {
  console.log(`valid: ${Object.keys(manifest.resources).length} resources`);
} else {
  console.error(JSON.stringify(validate.errors, null, 2));
  process.exit(1);
}
