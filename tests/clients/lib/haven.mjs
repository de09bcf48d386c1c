// Runs one real `haven` homeserver for a client test: a free loopback port, a fresh temporary
// data directory and a generated config. Used from the test files' hooks on node's main thread.
//
//   const server = await HavenServer.start({ "rooms.encryption_enabled_by_default": "false" });
//   ... server.baseUrl ...
//   const code = await server.stop();   // SIGTERM; resolves to the exit code
//   await server.cleanup();             // kills it if still running, removes the temp dir
//   const [hs1, hs2] = await HavenServer.startFederated(["hs1.test", "hs2.test"]);
//
// The binary comes from $HAVEN_BIN (ctest sets it). HAVEN_KEEP_TMP=1 keeps the data directory
// and log for a post-mortem; the log tail is part of every start or stop error.

import { spawn, execFile } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import fsp from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const START_TIMEOUT_MS = 20_000;
export const STOP_TIMEOUT_MS = 20_000;

// Rate limits high enough that a test never waits for or is refused by them.
const RELAXED_LIMITS = {
  "rate_limits.rc_login.per_second": "1000",
  "rate_limits.rc_login.burst_count": "1000",
  "rate_limits.rc_registration.per_second": "1000",
  "rate_limits.rc_registration.burst_count": "1000",
  "rate_limits.rc_message.per_second": "1000",
  "rate_limits.rc_message.burst_count": "1000",
};

/** The `haven` binary under test, from $HAVEN_BIN; throws a clear error when unusable. */
export function havenBin() {
  const bin = process.env.HAVEN_BIN;
  if (!bin) {
    throw new Error(
      "HAVEN_BIN is not set: run the client tests through ctest, or export " +
        "HAVEN_BIN=/path/to/build/homeserver/haven",
    );
  }
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`HAVEN_BIN=${bin} is not an executable file`);
  }
  return bin;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/**
 * Replaces the value of a dotted key ("registration.enable_registration") in YAML laid out the
 * way `haven generate-config` writes it: two spaces per level, one key per line. Throws when
 * the key is missing, so a renamed option fails the test instead of being silently ignored.
 */
export function setYamlOption(text, dottedKey, value) {
  const wanted = dottedKey.split(".");
  const lines = text.split("\n");
  let keyPath = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^( *)([A-Za-z0-9_]+):(.*)$/.exec(lines[i]);
    if (!m) continue;
    const depth = m[1].length / 2;
    keyPath = [...keyPath.slice(0, depth), m[2]];
    if (keyPath.join(".") === wanted.join(".")) {
      lines[i] = `${m[1]}${m[2]}: ${value}`;
      return lines.join("\n");
    }
  }
  throw new Error(`generated config has no option ${dottedKey}`);
}

export class HavenServer {
  /**
   * Generates a config, starts `haven serve` and waits until /_matrix/client/versions answers.
   * options: dotted config keys -> YAML value text, applied after registration is enabled and
   * the rate limits are relaxed. `beforeLaunch(server)`, when given, runs once the port and
   * server name are known and may return more options (e.g. an appservice registration that
   * names this server).
   */
  static async start(options = {}, { beforeLaunch } = {}) {
    const server = new HavenServer();
    try {
      await server.#configure(options);
      if (beforeLaunch) await server.#reconfigure(await beforeLaunch(server));
      await server.#launch();
    } catch (err) {
      await server.cleanup();
      throw err;
    }
    return server;
  }

  /**
   * Servers named `names` (e.g. ["hs1.test", "hs2.test"]) that federate with each other: each
   * has a TLS federation listener with a self-signed certificate made with the openssl command,
   * finds the others through federation.test_host_overrides, allows them and skips certificate
   * checks only for them. options: config for every server. Resolves to the servers in order.
   */
  static async startFederated(names, options = {}) {
    const ports = {};
    for (const name of names) ports[name] = await freePort();
    const certDir = await fsp.mkdtemp(path.join(os.tmpdir(), "haven-certs-"));
    const yamlList = (values) => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
    const overrides = names.map((name) => `${name}=127.0.0.1:${ports[name]}`);
    const servers = [];
    try {
      for (const name of names) {
        const key = path.join(certDir, `${name}.key`);
        const cert = path.join(certDir, `${name}.crt`);
        await execFileAsync("openssl", [
          "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${name}`,
          "-addext", `subjectAltName=DNS:${name}`,
        ], { timeout: 60_000 });
        const others = names.filter((n) => n !== name);
        const server = new HavenServer();
        servers.push(server);
        if (servers.length === 1) server.#extraDirs.push(certDir);
        await server.#configure({
          "server_name": JSON.stringify(name),
          "listeners.federation.port": String(ports[name]),
          "listeners.federation.tls_certificate_path": JSON.stringify(cert),
          "listeners.federation.tls_private_key_path": JSON.stringify(key),
          "federation.verify_certificates": "false",
          "federation.test_host_overrides": yamlList(overrides),
          "federation.allowed_servers": yamlList(others),
          "federation.insecure_test_servers": yamlList(others),
          ...options,
        });
        server.serverName = name;
        await server.#launch();
      }
    } catch (err) {
      for (const server of servers) await server.cleanup();
      if (servers.length === 0) await fsp.rm(certDir, { recursive: true, force: true });
      throw err;
    }
    return servers;
  }

  #process = null;
  #exit = null; // resolves to the exit code (or signal name) once the process has gone
  #extraDirs = []; // removed with the server's own directory

  async #configure(options) {
    this.bin = havenBin();
    this.port = await freePort();
    this.serverName = `localhost:${this.port}`;
    this.baseUrl = `http://127.0.0.1:${this.port}`;
    this.tmp = await fsp.mkdtemp(path.join(os.tmpdir(), "haven-client-"));
    this.dataDir = path.join(this.tmp, "data");
    this.configPath = path.join(this.tmp, "homeserver.yaml");
    this.logPath = path.join(this.tmp, "haven.log");
    const { stdout } = await execFileAsync(
      this.bin,
      [
        "generate-config",
        "--server-name", this.serverName,
        "--data-dir", this.dataDir,
        "--client-port", String(this.port),
        "--federation-port", "0",
      ],
      { timeout: 30_000 },
    );
    let text = stdout;
    const settings = {
      "registration.enable_registration": "true",
      "logging.level": "debug",
      // The care rules are off unless a test turns them on (plain Matrix between strangers).
      "care.enabled": "false",
      ...RELAXED_LIMITS,
      ...options,
    };
    for (const [key, value] of Object.entries(settings)) {
      text = setYamlOption(text, key, value);
    }
    await fsp.writeFile(this.configPath, text);
  }

  async #reconfigure(options = {}) {
    let text = await fsp.readFile(this.configPath, "utf8");
    for (const [key, value] of Object.entries(options)) {
      text = setYamlOption(text, key, value);
    }
    await fsp.writeFile(this.configPath, text);
  }

  async #launch() {
    const log = fs.openSync(this.logPath, "a");
    try {
      this.#process = spawn(this.bin, ["serve", "-c", this.configPath], {
        stdio: ["ignore", log, log],
      });
    } finally {
      fs.closeSync(log);
    }
    this.pid = this.#process.pid;
    this.#exit = new Promise((resolve) => {
      this.#process.once("exit", (code, signal) => resolve(code ?? signal));
      this.#process.once("error", (err) => resolve(`spawn error: ${err.message}`));
    });
    let exited = null;
    this.#exit.then((code) => (exited = code));

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited !== null) {
        this.#process = null;
        throw new Error(`haven exited with ${exited} during start-up:\n${this.logTail()}`);
      }
      try {
        const res = await fetch(`${this.baseUrl}/_matrix/client/versions`, {
          signal: AbortSignal.timeout(2_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`haven did not answer within ${START_TIMEOUT_MS} ms:\n${this.logTail()}`);
  }

  /** True while the server process has not exited. */
  get running() {
    return this.#process !== null && this.#process.exitCode === null &&
      this.#process.signalCode === null;
  }

  /**
   * Sends SIGTERM and resolves to the exit code (a signal name if it died of one). Rejects
   * when the process does not exit within STOP_TIMEOUT_MS (it is then killed).
   */
  async stop() {
    if (this.#process === null) return null;
    this.#process.kill("SIGTERM");
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS);
    });
    const code = await Promise.race([this.#exit, timeout]);
    clearTimeout(timer);
    if (code === "timeout") {
      this.#process.kill("SIGKILL");
      await this.#exit;
      this.#process = null;
      throw new Error(
        `haven did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM:\n${this.logTail()}`);
    }
    this.#process = null;
    return code;
  }

  /** Kills the server if it still runs and removes its files (unless HAVEN_KEEP_TMP is set). */
  async cleanup() {
    if (this.#process !== null) {
      this.#process.kill("SIGKILL");
      await this.#exit;
      this.#process = null;
    }
    if (!this.tmp) return;
    if (process.env.HAVEN_KEEP_TMP) {
      console.error(`haven files kept in ${this.tmp}`);
    } else {
      await fsp.rm(this.tmp, { recursive: true, force: true });
      for (const dir of this.#extraDirs) await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  /** The last `lines` lines of the server's log. */
  logTail(lines = 60) {
    try {
      return fs.readFileSync(this.logPath, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}

/** A JSON request to the server's client port; resolves to { status, body }. */
export async function havenRequest(server, method, apiPath, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(server.baseUrl + apiPath, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * A server admin through shared-secret registration, as register_new_matrix_user makes one;
 * resolves to its access token.
 */
export async function registerAdmin(server, username, password) {
  const config = fs.readFileSync(server.configPath, "utf8");
  const secret = /registration_shared_secret: "([^"]*)"/.exec(config)[1];
  const { body: { nonce } } = await havenRequest(server, "GET", "/_synapse/admin/v1/register");
  const { createHmac } = await import("node:crypto");
  const mac = createHmac("sha1", secret)
    .update(`${nonce}\0${username}\0${password}\0admin`).digest("hex");
  const { status, body } = await havenRequest(server, "POST", "/_synapse/admin/v1/register",
    { nonce, username, password, admin: true, mac });
  if (status !== 200) throw new Error(`admin registration: ${status} ${JSON.stringify(body)}`);
  return body.access_token;
}
