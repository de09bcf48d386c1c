// Runs one real `haven-care` beside a client test's HavenServer, as tests/integration's
// care_harness.py does: generated config and registration, fake clock on. The binary comes
// from $HAVEN_CARE_BIN (ctest sets it). Main thread only.
//
//   const care = await CareService.prepare(server-to-be)   // in HavenServer's beforeLaunch
//   await care.start(); ... care.baseUrl ...; await care.stop();

import { spawn, execFile } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

import { freePort, START_TIMEOUT_MS, STOP_TIMEOUT_MS } from "./haven.mjs";

const execFileAsync = promisify(execFile);
export const CARE = "/_haven/care/v1";

export function careBin() {
  const bin = process.env.HAVEN_CARE_BIN;
  if (!bin) {
    throw new Error("HAVEN_CARE_BIN is not set: run the client tests through ctest, or " +
      "export HAVEN_CARE_BIN=/path/to/build/appservices/care/haven-care");
  }
  fs.accessSync(bin, fs.constants.X_OK);
  return bin;
}

export class CareService {
  /**
   * Writes haven-care's config and registration for `server` (a HavenServer whose config is
   * generated but which has not started). Resolves to the service and the haven options that
   * list its registration.
   */
  static async prepare(server) {
    const care = new CareService();
    care.bin = careBin();
    care.port = await freePort();
    care.baseUrl = `http://127.0.0.1:${care.port}`;
    care.registration = path.join(server.tmp, "care-registration.yaml");
    care.configPath = path.join(server.tmp, "care.yaml");
    care.logPath = path.join(server.tmp, "care.log");
    const { stdout } = await execFileAsync(care.bin, [
      "generate-config", "--server-name", server.serverName,
      "--data-dir", path.join(server.tmp, "data-care"), "--homeserver-url", server.baseUrl,
      "--port", String(care.port), "--registration", care.registration,
    ], { timeout: 30_000 });
    await fsp.writeFile(care.configPath, stdout.replace("fake_clock: false", "fake_clock: true"));
    return { care, havenOptions: { app_service_config_files: JSON.stringify([care.registration]) } };
  }

  #process = null;
  #exit = null;

  /** Starts `haven-care serve` and waits until its guest page answers. */
  async start() {
    const log = fs.openSync(this.logPath, "a");
    try {
      this.#process = spawn(this.bin, ["serve", "-c", this.configPath],
        { stdio: ["ignore", log, log] });
    } finally {
      fs.closeSync(log);
    }
    let exited = null;
    this.#exit = new Promise((resolve) => {
      this.#process.once("exit", (code, signal) => resolve(code ?? signal));
      this.#process.once("error", (err) => resolve(`spawn error: ${err.message}`));
    });
    this.#exit.then((code) => (exited = code));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited !== null) {
        this.#process = null;
        throw new Error(`haven-care exited with ${exited} during start-up:\n${this.logTail()}`);
      }
      try {
        const res = await fetch(`${this.baseUrl}${CARE}/guest_links/x`,
          { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`haven-care did not answer within ${START_TIMEOUT_MS} ms:\n${this.logTail()}`);
  }

  /** SIGTERM; resolves to the exit code, kills and rejects when it does not stop in time. */
  async stop() {
    if (this.#process === null) return null;
    this.#process.kill("SIGTERM");
    let timer;
    const timeout = new Promise((r) => { timer = setTimeout(() => r("timeout"), STOP_TIMEOUT_MS); });
    const code = await Promise.race([this.#exit, timeout]);
    clearTimeout(timer);
    if (code === "timeout") this.#process.kill("SIGKILL");
    this.#process = null;
    if (code === "timeout") throw new Error(`haven-care did not stop:\n${this.logTail()}`);
    return code;
  }

  /** A JSON call to haven-care's REST API; resolves to { status, body }. */
  async request(method, apiPath, body, token) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`${this.baseUrl}${CARE}${apiPath}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  logTail(lines = 60) {
    try {
      return fs.readFileSync(this.logPath, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}
