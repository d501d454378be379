import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Two registry-dash processes behind Debian's haproxy (round robin, no stickiness), one
// Debian redis-server and one gitlab-double process, all on loopback ports, for journeys
// that must hold with several replicas. scripts/setup.sh --tests installs the servers.

const root = path.resolve(__dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, what: string, ms = 30_000) {
  const until = Date.now() + ms;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`${what} did not open port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function program(name: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${name} is not installed: run scripts/setup.sh --tests`);
}

function binary(name: string): string {
  const p = path.join(root, 'target/debug', name);
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: build it first (scripts/test.sh does)`);
  return p;
}

async function exited(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

export class Cluster {
  private dir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-dash-cluster-'));
  private procs: ChildProcess[] = [];
  replicas: (ChildProcess | null)[] = [];
  /** Request paths each replica served (from its access log). */
  served: string[][] = [];

  private constructor(
    readonly proxyPort: number,
    readonly doublePort: number,
    readonly redisPort: number,
    readonly replicaPorts: number[],
  ) {}

  static async start(replicas = 2): Promise<Cluster> {
    const ports = await Promise.all(Array.from({ length: replicas + 3 }, freePort));
    const [proxyPort, doublePort, redisPort, ...replicaPorts] = ports;
    const cluster = new Cluster(proxyPort, doublePort, redisPort, replicaPorts);
    await cluster.spawnRedis();
    await cluster.spawnDouble();
    for (let i = 0; i < replicas; i++) {
      cluster.served.push([]);
      cluster.replicas.push(null);
      await cluster.restart(i);
    }
    await cluster.spawnProxy();
    return cluster;
  }

  url = () => `http://127.0.0.1:${this.proxyPort}`;
  gitlab = () => `http://127.0.0.1:${this.doublePort}`;
  replicaUrl = (i: number) => `http://127.0.0.1:${this.replicaPorts[i]}`;

  private track(child: ChildProcess) {
    this.procs.push(child);
    return child;
  }

  private async spawnRedis() {
    this.track(
      spawn(program('redis-server'), ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      }),
    );
    await waitForPort(this.redisPort, 'redis-server');
  }

  private async spawnDouble() {
    this.track(
      spawn(binary('gitlab-double'), ['--listen', `127.0.0.1:${this.doublePort}`, '--redirect-uri', `${this.url()}/auth/callback/demo`], {
        stdio: 'ignore',
        env: { ...process.env, RUST_LOG: 'warn' },
      }),
    );
    await waitForPort(this.doublePort, 'gitlab-double');
  }

  private async spawnProxy() {
    const servers = this.replicaPorts
      .map((port, i) => `  server r${i} 127.0.0.1:${port} check inter 300 fall 1 rise 1`)
      .join('\n');
    const config = [
      'global',
      '  maxconn 2000',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  retries 3',
      '  option redispatch 1',
      '  retry-on conn-failure empty-response',
      'frontend dashboard',
      `  bind 127.0.0.1:${this.proxyPort}`,
      '  default_backend replicas',
      'backend replicas',
      '  balance roundrobin',
      servers,
      '',
    ].join('\n');
    const file = path.join(this.dir, 'haproxy.cfg');
    fs.writeFileSync(file, config);
    this.track(spawn(program('haproxy'), ['-db', '-f', file], { stdio: 'ignore' }));
    await waitForPort(this.proxyPort, 'haproxy');
  }

  /** Starts replica `i` (again) and waits until it listens. */
  async restart(i: number) {
    const child = this.track(
      spawn(binary('registry-dash'), [], {
        env: {
          ...process.env,
          REGISTRY_DASH_LISTEN: `127.0.0.1:${this.replicaPorts[i]}`,
          REGISTRY_DASH_PUBLIC_URL: this.url(),
          REGISTRY_DASH_SITE_ROOT: path.join(root, 'target/site'),
          REGISTRY_DASH_REDIS_URL: `redis://127.0.0.1:${this.redisPort}/`,
          REGISTRY_DASH_LOG_FORMAT: 'json',
          GITLAB_URL: this.gitlab(),
          GITLAB_NAME: 'demo',
          GITLAB_LABEL: 'the demo GitLab',
          GITLAB_CLIENT_ID: 'registry-dash-demo',
          GITLAB_CLIENT_SECRET: 'registry-dash-demo-secret',
          RUST_LOG: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line);
          // Access lines read "GET /path 200".
          if (entry.target === 'access') this.served[i].push(String(entry.message).split(' ')[1]);
        } catch {
          // Not a log line of ours.
        }
      }
    });
    this.replicas[i] = child;
    await waitForPort(this.replicaPorts[i], `registry-dash replica ${i}`);
  }

  /** Kills replica `i` outright (SIGKILL: no graceful stop, as a crash or an OOM kill). */
  async kill(i: number) {
    const child = this.replicas[i];
    if (!child) return;
    child.kill('SIGKILL');
    await exited(child);
    this.replicas[i] = null;
  }

  /** GitLab API requests the double has answered so far. */
  async gitlabRequests(): Promise<number> {
    const response = await fetch(`${this.gitlab()}/-/double/controls`);
    return (await response.json()).request_count as number;
  }

  async stop() {
    for (const child of this.procs) child.kill('SIGKILL');
    await Promise.all(this.procs.map(exited));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
