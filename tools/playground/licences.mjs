// Write the licences of every package bundled into editor.min.js (those under node_modules, esbuild
// aside: a build tool, not bundled) to THIRD_PARTY_LICENSES.txt here and beside the built file.
import {readdirSync, readFileSync, writeFileSync, existsSync} from "node:fs";
import {join} from "node:path";

const root = "node_modules";
const names = [];
for (const entry of readdirSync(root).sort()) {
  if (entry.startsWith(".") || entry === "esbuild") continue;
  if (entry.startsWith("@")) {
    if (entry === "@esbuild") continue;
    for (const sub of readdirSync(join(root, entry)).sort()) names.push(`${entry}/${sub}`);
  } else names.push(entry);
}
const parts = ["The playground's editor (editor.min.js) bundles these packages; their licences follow.\n"];
for (const name of names) {
  const dir = join(root, name);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find(f => /^(licen[cs]e|copying)/i.test(f));
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `(no licence file; package.json says ${meta.license})`;
  parts.push(`${"=".repeat(78)}\n${name} ${meta.version} (${meta.license})\n${"-".repeat(78)}\n${text}\n`);
}
const out = parts.join("\n");
writeFileSync("THIRD_PARTY_LICENSES.txt", out);
const target = "../../src/gspolicy/serve/static/playground";
if (existsSync(target)) writeFileSync(join(target, "THIRD_PARTY_LICENSES.txt"), out);
console.log(`${names.length} packages: THIRD_PARTY_LICENSES.txt`);
