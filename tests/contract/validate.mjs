// validate.mjs - check recorded HTTP responses against static/openapi.json.
//
//   node validate.mjs [--openapi FILE] [--tap] MANIFEST
//
// MANIFEST holds one JSON object per line, one per response a test received:
//   {"file": "body file", "method": "GET", "path": "/api/v1/x?y",
//    "status": 200, "content_type": "application/json; charset=utf-8"}
// (relative "file" names are relative to the manifest's folder). For each,
// the operation is found by path template and method (an unknown path must
// be the document's NotFound answer, an unknown method its MethodNotAllowed),
// then the response by status (exact, then "4XX", then "default"), then the
// media type; a JSON body must be valid against the schema (JSON Schema
// 2020-12 with formats). A status or media type the document does not list
// is a failure: the contract says every answer an integration can get.
//
// Prints "PASS description" / "FAIL description" lines (failures followed
// by "# why" lines), or numbered TAP with --tap. Exits 1 when any failed,
// 2 when the manifest or the document cannot be read.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let openapiPath = resolve(here, "../../static/openapi.json");
let tap = false;
let manifest = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--openapi") openapiPath = args[++i];
  else if (args[i] === "--tap") tap = true;
  else manifest = args[i];
}
if (!manifest) {
  console.error("usage: node validate.mjs [--openapi FILE] [--tap] MANIFEST");
  process.exit(2);
}

let doc, records;
try {
  doc = JSON.parse(readFileSync(openapiPath, "utf8"));
  records = readFileSync(manifest, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
} catch (e) {
  console.error(`validate.mjs: ${e.message}`);
  process.exit(2);
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(doc, "openapi.json");

const templates = Object.keys(doc.paths).map((t) => ({
  template: t,
  re: new RegExp("^" + t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+") + "$"),
}));

const pointer = (parts) => "#/" + parts.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

// Follows a "$ref" inside the document; returns [object, its pointer parts].
function deref(obj, parts) {
  while (obj && obj.$ref) {
    parts = obj.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    obj = parts.reduce((o, k) => (o ? o[k] : undefined), doc);
  }
  return [obj, parts];
}

function check(rec) {
  const why = [];
  const method = (rec.method || "GET").toUpperCase() === "HEAD" ? "get" : (rec.method || "GET").toLowerCase();
  const path = rec.path.split("?")[0];
  const status = String(rec.status);
  const tpl = templates.find((t) => t.re.test(path));
  let response, parts;

  if (!tpl) {
    if (status !== "404") return [`${path} is not in the document, yet answered ${status}`];
    [response, parts] = deref({ $ref: "#/components/responses/NotFound" }, []);
  } else if (!doc.paths[tpl.template][method]) {
    if (status !== "405") return [`${method.toUpperCase()} ${tpl.template} is not in the document, yet answered ${status}`];
    [response, parts] = deref({ $ref: "#/components/responses/MethodNotAllowed" }, []);
  } else {
    const op = doc.paths[tpl.template][method];
    const key = [status, `${status[0]}XX`, "default"].find((k) => op.responses[k]);
    if (!key) return [`status ${status} is not documented for ${method.toUpperCase()} ${tpl.template}`];
    [response, parts] = deref(op.responses[key], ["paths", tpl.template, method, "responses", key]);
  }
  const ctype = (rec.content_type || "").split(";")[0].trim().toLowerCase();
  const content = response.content || {};
  let body = "";
  try {
    body = readFileSync(resolve(dirname(manifest), rec.file), "utf8");
  } catch (e) {
    return [`cannot read ${rec.file}: ${e.message}`];
  }
  if (!content[ctype]) {
    if (Object.keys(content).length === 0 && body === "") return why;
    return [`media type "${ctype}" is not documented for this answer (documented: ${Object.keys(content).join(", ") || "none"})`];
  }
  if (!/(^application\/json$|\+json$)/.test(ctype)) return why;
  let value;
  try {
    value = JSON.parse(body);
  } catch (e) {
    return [`the body is not JSON: ${e.message}`];
  }
  const ref = "openapi.json" + pointer([...parts, "content", ctype, "schema"]);
  const validate = ajv.getSchema(ref);
  if (!validate) return [`no schema at ${ref}`];
  if (!validate(value)) {
    for (const e of validate.errors.slice(0, 8)) why.push(`${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  }
  return why;
}

let failed = 0;
records.forEach((rec, i) => {
  const name = `${rec.method} ${rec.path} ${rec.status} ${(rec.content_type || "").split(";")[0]} matches the contract`;
  let why;
  try {
    why = check(rec);
  } catch (e) {
    why = [`validator error: ${e.message}`];
  }
  const good = why.length === 0;
  if (!good) failed++;
  if (tap) console.log(`${good ? "ok" : "not ok"} ${i + 1} - ${name}`);
  else console.log(`${good ? "PASS" : "FAIL"} ${name}`);
  for (const w of why) console.log(`#   ${w}`);
});
if (tap) console.log(`1..${records.length}`);
process.exit(failed ? 1 : 0);
