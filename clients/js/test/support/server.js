// Test support: builds and runs the real ChatKit sample server (samples/ChatKit.Samples.Web) as a child process,
// signs people in, and waits for client events. Every child process started here is killed when the tests end,
// also when they fail or the test process is interrupted.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const children = new Set();
const killAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** The repository root: the nearest folder above this file holding ChatKit.sln. */
export function repoRoot() {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'ChatKit.sln'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('ChatKit.sln not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** Runs a command to its end; resolves with its exit code and (the end of) its output. */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => {
      children.delete(child);
      reject(error);
    });
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, output });
    });
  });
}

/**
 * Builds the sample server (Release) and returns the path of its dll. Someone may be editing src/ meanwhile, so a
 * failed build is retried a few times. No build servers are left running afterwards.
 */
export async function buildSample() {
  const project = join(repoRoot(), 'samples', 'ChatKit.Samples.Web');
  const env = { ...process.env, DOTNET_CLI_USE_MSBUILD_SERVER: '0', MSBUILDDISABLENODEREUSE: '1', DOTNET_NOLOGO: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1' };
  const args = ['build', project, '-c', 'Release', '-nologo', '-v', 'q', '-nodeReuse:false', '-p:UseSharedCompilation=false'];
  for (let attempt = 1; ; attempt++) {
    const { code, output } = await run('dotnet', args, { env });
    if (code === 0) break;
    if (attempt === 4) throw new Error(`dotnet build failed ${attempt} times; last output:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 15_000)); // let a colleague's edit finish
  }
  const dll = join(project, 'bin', 'Release', 'net10.0', 'ChatKit.Samples.Web.dll');
  if (!existsSync(dll)) throw new Error(`The build succeeded but ${dll} is missing.`);
  return dll;
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A fresh folder for a server's database and token keys. */
export const tempDir = () => mkdtempSync(join(tmpdir(), 'chatkit-js-'));
export const removeDir = (dir) => rmSync(dir, { recursive: true, force: true });

/**
 * Starts the sample server on 127.0.0.1:port with its SQLite database and token keys in `dir` (so a restart on the
 * same dir keeps rooms, messages and sign-ins), and waits until /healthz answers 200.
 */
export async function startServer({ dll, port, dir }) {
  const child = spawn(
    'dotnet',
    [
      dll,
      '--urls',
      `http://127.0.0.1:${port}`,
      `--ChatKit:Storage:ConnectionString=Data Source=${join(dir, 'chat.db')}`,
      `--DevSignIn:KeysDirectory=${join(dir, 'keys')}`,
    ],
    {
      cwd: dirname(dll),
      env: { ...process.env, DOTNET_NOLOGO: '1', ASPNETCORE_ENVIRONMENT: 'Production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let log = '';
  const keep = (chunk) => {
    log = (log + chunk).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));

  const base = `http://127.0.0.1:${port}`;
  const server = {
    base,
    port,
    url: `ws://127.0.0.1:${port}/chat`,
    log: () => log,
    /** Kills the process at once (no graceful shutdown) and waits for it to be gone. */
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };

  let gone = false;
  exited.then(() => (gone = true));
  const deadline = Date.now() + 60_000;
  while (true) {
    if (gone) throw new Error(`The sample server exited before it was healthy:\n${log}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.kill();
      throw new Error(`The sample server did not answer /healthz within 60 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // polling interval while the process starts
  }
}

/** POST /dev/signin: resolves with { token, user, name }. */
export async function signIn(server, name) {
  const res = await fetch(`${server.base}/dev/signin`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const body = await res.json();
  if (res.status !== 200 || !body.token) throw new Error(`Sign-in as ${name} failed: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/**
 * Resolves with the next `type` event of `client` that `match` accepts. Register it before causing the event. The
 * timeout only turns a missing event into a clear failure.
 */
export function nextEvent(client, type, match = () => true, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`No matching '${type}' event within ${timeoutMs} ms.`));
    }, timeoutMs);
    const off = client.on(type, (event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

/** Resolves with the ChatKitError a promise rejects with; fails when it resolves. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, but it resolved.');
}
