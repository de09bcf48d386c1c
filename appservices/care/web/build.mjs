// Builds the guest page into the folder given as the first argument (CMake passes
// build/<type>/appservices/care/web): index.html, guest.css, guest.js (one ES module bundle
// of src/ with matrix-js-sdk) and the Rust crypto's WebAssembly beside it.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(here, "dist"));
fs.mkdirSync(out, { recursive: true });

await esbuild.build({
  entryPoints: [path.join(here, "src/main.js")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: false,
  legalComments: "eof",
  outfile: path.join(out, "guest.js"),
  logLevel: "warning",
});
for (const file of ["index.html", "guest.css"]) {
  fs.copyFileSync(path.join(here, "src", file), path.join(out, file));
}
const wasm = path.join(here,
  "node_modules/@matrix-org/matrix-sdk-crypto-wasm/pkg/matrix_sdk_crypto_wasm_bg.wasm");
fs.copyFileSync(wasm, path.join(out, "matrix_sdk_crypto_wasm_bg.wasm"));
