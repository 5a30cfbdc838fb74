import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { freePort } from '../free-port.js';
import os from 'node:os';
import path from 'node:path';
import { nginxConfig, type NginxVariant } from './nginx-config.js';

/** nginx running in front of a server, as a child of the test. */
export interface RunningNginx {
  /** `https://localhost:<port>`, the address a person would use. */
  readonly url: string;
  readonly port: number;
  /** The self-signed certificate (its own CA): NODE_EXTRA_CA_CERTS for Node clients. */
  readonly certFile: string;
  readonly configText: string;
  /** nginx's error log so far. */
  errorLog(): string;
  /** Stops nginx and its workers (the whole process group) and removes its folder. */
  stop(): Promise<void>;
}

/** Debian's nginx: on PATH, or in /usr/sbin, which a non-root PATH lacks. */
export function nginxBinary(): string {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'nginx'));
  const found = [...onPath, '/usr/sbin/nginx'].find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error('nginx is not installed: apt-get install -y nginx');
  return found;
}

/** Whether this nginx has the `http2 on;` directive (1.25.1 and later); older ones take `listen ... http2`. */
function hasHttp2Directive(binary: string): boolean {
  // `nginx -v` prints its banner on stderr.
  const { stdout, stderr } = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(`${stdout}${stderr}`);
  if (!version) return false;
  const [major, minor, patch] = version.slice(1).map(Number) as [number, number, number];
  return major > 1 || (major === 1 && (minor > 25 || (minor === 25 && patch >= 1)));
}

/** A self-signed certificate for localhost and 127.0.0.1, made at test time. */
function makeCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}


/**
 * Starts nginx (master and one worker, not a daemon) with a generated configuration in a temp
 * folder of its own, on a free port, in front of the server on upstreamPort. Resolves once
 * it accepts connections. A given `port` is used as is (PUBLIC_URL must name it before the
 * server starts).
 */
export async function startNginx(variant: NginxVariant, upstreamPort: number, { port: fixedPort }: { port?: number } = {}): Promise<RunningNginx> {
  const binary = nginxBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-nginx-'));
  const { certFile, keyFile } = makeCertificate(dir);
  const http2 = hasHttp2Directive(binary);
  const configFile = path.join(dir, 'nginx.conf');
  const errorLog = () => readOrEmpty(path.join(dir, 'error.log'));
  // The port is free when we ask; another process may take it before nginx binds: try again then.
  for (let attempt = 1; ; attempt += 1) {
    const port = fixedPort ?? (await freePort());
    const configText = nginxConfig({ variant, port, upstreamPort, dir, certFile, keyFile, hasHttp2Directive: http2, isRoot: process.getuid?.() === 0 });
    fs.writeFileSync(configFile, configText);
    const child = spawn(binary, ['-p', dir, '-c', configFile, '-e', path.join(dir, 'error.log')], { detached: true, stdio: 'ignore' });
    const group = processGroup(child);
    if (await waitUntilListening(port, group.exited)) {
      let stopping: Promise<void> | null = null;
      return {
        url: `https://localhost:${port}`,
        port,
        certFile,
        configText,
        errorLog,
        stop: () =>
          (stopping ??= group.stop().then(() => fs.rmSync(dir, { recursive: true, force: true }))),
      };
    }
    await group.stop();
    const log = errorLog();
    if (fixedPort !== undefined || attempt >= 3 || !/Address already in use/.test(log)) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start: ${log.slice(-1500)}`);
    }
  }
}

/** nginx's master and its workers share the master's process group: signals go to all of them. */
function processGroup(child: ChildProcess): { exited: Promise<void>; stop(): Promise<void> } {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // gone
    }
  };
  return {
    exited,
    async stop() {
      // SIGTERM is nginx's fast shutdown; the SIGKILL after it leaves no worker behind either way.
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      signal('SIGKILL');
    },
  };
}

/** Polls the port until it accepts a connection (true) or nginx exits (false). */
async function waitUntilListening(port: number, exited: Promise<void>): Promise<boolean> {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const deadline = Date.now() + 10000;
  while (!hasExited && Date.now() < deadline) {
    if (await canConnect(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
