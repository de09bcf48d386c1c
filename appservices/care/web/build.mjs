// Builds the guest page into the folder given as the first argument: index.html, guest.css,
// guest.js (one ES module bundle of src/ with matrix-js-sdk) and the Rust crypto's
// WebAssembly beside it. `--modules DIR` names the node_modules folder to build from (CMake
// installs one in the build folder); by default this folder's own.
//   node build.mjs OUT_DIR [--modules NODE_MODULES]
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const modulesAt = args.indexOf("--modules");
const modules = path.resolve(modulesAt >= 0 ? args.splice(modulesAt, 2)[1] : path.join(here, "node_modules"));
const out = path.resolve(args[0] ?? path.join(here, "dist"));

const require = createRequire(path.join(modules, "noop.js"));
const esbuild = require("esbuild");

fs.mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [path.join(here, "src/main.js")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  legalComments: "eof",
  nodePaths: [modules],
  outfile: path.join(out, "guest.js"),
  logLevel: "warning",
});
for (const file of ["index.html", "guest.css"]) {
  fs.copyFileSync(path.join(here, "src", file), path.join(out, file));
}
const wasm = path.join(modules,
  "@matrix-org/matrix-sdk-crypto-wasm/pkg/matrix_sdk_crypto_wasm_bg.wasm");
fs.copyFileSync(wasm, path.join(out, "matrix_sdk_crypto_wasm_bg.wasm"));
