// A real nginx for the http(s) tests, from Debian's packages, run by the suite from its own
// configuration on 127.0.0.1. The package is unpacked (apt-get download + dpkg -x), never
// installed: installing it would start a system nginx on port 80 on every interface.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apt, SERVERS_DIR } from './servers.js';
import { ensureCerts, freePort, installExitHook, isListening, running, sleep } from './vsftpd.js';

const NGINX = path.join(SERVERS_DIR, 'nginx', 'usr/sbin/nginx');

/**
 * Debian 12's nginx-light is a transitional package whose binary is `nginx`'s (with the http
 * core, SSL, range and limit_rate the tests need): that package is the one unpacked.
 */
export function ensureNginx(): string {
  if (fs.existsSync(NGINX)) return NGINX;
  if (process.getuid?.() !== 0) throw new Error('nginx is unpacked and run by the tests as root');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rftp-nginx-'));
  fs.chmodSync(tmp, 0o755);
  apt(['download', 'nginx'], tmp);
  const staging = path.join(tmp, 'root');
  for (const deb of fs.readdirSync(tmp).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg', ['-x', path.join(tmp, deb), staging]);
  fs.mkdirSync(SERVERS_DIR, { recursive: true });
  fs.rmSync(path.join(SERVERS_DIR, 'nginx'), { recursive: true, force: true });
  fs.renameSync(staging, path.join(SERVERS_DIR, 'nginx'));
  fs.rmSync(tmp, { recursive: true, force: true });
  return NGINX;
}

export interface Nginx {
  /** The files it serves: http://127.0.0.1:port/NAME, and /slow/NAME at `rate` bytes per second. */
  root: string;
  url: string;
  httpsUrl: string;
  caFile: string;
  otherCaFile: string;
  /** Bytes of response bodies sent for requests whose path ends in `name` (the access log). */
  bytesSent(name: string): number;
  /** The access log's lines: status, body bytes, request line, Range, If-Range and Authorization headers ("" when absent). */
  log(): Array<{ status: number; bytes: number; request: string; range: string; ifRange: string; authorization: string }>;
  stop(): Promise<void>;
}

export async function startNginx(opts: { rate?: string } = {}): Promise<Nginx> {
  const binary = ensureNginx();
  const certs = ensureCerts();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rftp-nginx-run-'));
  const root = path.join(dir, 'www');
  fs.mkdirSync(root);
  fs.mkdirSync(path.join(dir, 'tmp'));
  const port = await freePort();
  const tlsPort = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  default_type application/octet-stream;
  log_format rftp escape=none '$status\t$body_bytes_sent\t$request\t$http_range\t$http_if_range\t$http_authorization';
  access_log ${dir}/access.log rftp;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${certs}/server.pem;
    ssl_certificate_key ${certs}/server.key;
    root ${root};
    location /slow/ {
      alias ${root}/;
      limit_rate ${opts.rate ?? '256k'};
    }
    location /private/ {
      alias ${root}/;
      auth_basic "rftp";
      auth_basic_user_file ${dir}/htpasswd;
    }
    location = /moved { return 302 /data.bin; }
    location = /slow-moved { return 302 /slow/big.bin; }
    location = /loop { return 302 /loop; }
    location = /to-http { return 302 http://127.0.0.1:${port}/data.bin; }
    location = /secret { return 403; }
  }
}
`,
  );
  const hash = execFileSync('openssl', ['passwd', '-apr1', 'Pw4-http'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(dir, 'htpasswd'), `alice:${hash}\n`);
  const child: ChildProcess = spawn(binary, ['-p', dir, '-c', conf, '-e', `${dir}/error.log`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 15_000;
  while (!exited && Date.now() < deadline && !(isListening(child.pid!, port) && isListening(child.pid!, tlsPort))) await sleep(20);
  if (exited || Date.now() >= deadline) {
    child.kill('SIGKILL');
    throw new Error(`nginx failed to start (files in ${dir}): ${output.trim()} ${fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, 'utf8') : ''}`);
  }
  child.unref();
  running.add(conf);
  installExitHook();
  const log = () =>
    (fs.existsSync(`${dir}/access.log`) ? fs.readFileSync(`${dir}/access.log`, 'utf8') : '')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [status, bytes, request, range, ifRange, authorization] = line.split('\t');
        return { status: Number(status), bytes: Number(bytes), request, range, ifRange, authorization };
      });
  return {
    root,
    url: `http://127.0.0.1:${port}`,
    httpsUrl: `https://127.0.0.1:${tlsPort}`,
    caFile: path.join(certs, 'ca.pem'),
    otherCaFile: path.join(certs, 'other.pem'),
    log,
    bytesSent: (name) =>
      log()
        .filter((l) => l.request.split(' ')[1]?.endsWith(`/${name}`))
        .reduce((n, l) => n + l.bytes, 0),
    async stop() {
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(20);
      if (!exited) child.kill('SIGKILL');
      running.delete(conf);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
