import { spawn, ChildProcess } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';

// Starts the dashboard in demo mode (GitLab double in-process) on ephemeral ports and hands
// its URLs to the tests through the environment.
export default async function globalSetup() {
  const root = path.resolve(__dirname, '..');
  const bin = process.env.REGISTRY_DASH_BIN ?? path.join(root, 'target/debug/registry-dash');
  if (!fs.existsSync(bin)) throw new Error(`server binary not found at ${bin}: build it first`);
  const siteRoot = path.join(root, 'target/site');
  if (!fs.existsSync(path.join(siteRoot, 'pkg/site.json'))) {
    throw new Error('wasm bundle missing: run scripts/build-site.sh first');
  }
  const child: ChildProcess = spawn(bin, [], {
    env: {
      ...process.env,
      REGISTRY_DASH_LISTEN: '127.0.0.1:0',
      REGISTRY_DASH_DEMO: '1',
      REGISTRY_DASH_SITE_ROOT: siteRoot,
      RUST_LOG: process.env.RUST_LOG ?? 'warn,server=info,audit=info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Everything the server logs, for journeys that check what never reaches a log line.
  const logFile = path.join(root, 'target/e2e-server.log');
  fs.writeFileSync(logFile, '');
  child.stdout!.on('data', (chunk: Buffer) => fs.appendFileSync(logFile, chunk));
  process.env.SERVER_LOG = logFile;
  const urls = await new Promise<{ app: string; gitlab: string }>((resolve, reject) => {
    let buffer = '';
    const found: { app?: string; gitlab?: string } = {};
    const timer = setTimeout(() => reject(new Error(`server did not start: ${buffer}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        const app = line.match(/^registry-dash listening on (http:\/\/\S+)/);
        const gitlab = line.match(/^gitlab double at (http:\/\/\S+)/);
        if (app) found.app = app[1];
        if (gitlab) found.gitlab = gitlab[1];
      }
      if (found.app && found.gitlab) {
        clearTimeout(timer);
        resolve({ app: found.app, gitlab: found.gitlab });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${buffer}`)));
  });
  process.env.BASE_URL = urls.app;
  process.env.GITLAB_URL = urls.gitlab;
  return async () => {
    child.kill('SIGTERM');
  };
}
