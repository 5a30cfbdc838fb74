import { runCli } from '../../helpers/cli-process.js';
import { startProxiedServer, type ProxiedServer } from '../../helpers/proxy/proxied-server.js';

/** Runs `buildlog doctor` against nginx, trusting its self-signed certificate as a user would. */
function doctor(proxied: ProxiedServer, waitMs = 5000) {
  return runCli(['doctor', '--server', proxied.nginx.url, '--wait', String(waitMs)], { NODE_EXTRA_CA_CERTS: proxied.nginx.certFile });
}

describe('buildlog doctor through nginx', () => {
  let proxied: ProxiedServer | undefined;

  afterEach(async () => {
    await proxied?.stop();
    proxied = undefined;
  });

  it('passes behind the recommended configuration, with TRUST_PROXY=true', async () => {
    proxied = await startProxiedServer('good', 'trust-proxy');
    const result = await doctor(proxied);
    expect(result.stdout).toContain("✓ the page's POST passes the Host and Origin checks");
    expect(result.stdout).toContain('✓ HTTP/2 (ALPN h2)');
    expect(result.stdout).toContain('✓ the stream is not compressed');
    expect(result.stdout).toContain("✓ the stream's first bytes (retry:) arrived at once");
    expect(result.stdout).toContain('✓ heartbeats arrive one by one');
    expect(result.stdout).not.toContain('✗');
    expect(result.stdout).toMatch(/All checks passed\.\n$/);
    expect(result.code).toBe(0);
  });

  it('passes behind the recommended configuration, with PUBLIC_URL', async () => {
    proxied = await startProxiedServer('good', 'public-url');
    const result = await doctor(proxied);
    expect(result.stdout).not.toContain('✗');
    expect(result.code).toBe(0);
  });

  it('names the buffering proxy and what to change', async () => {
    proxied = await startProxiedServer('buffering', 'trust-proxy');
    const result = await doctor(proxied, 3000);
    expect(result.stdout).toContain('✗ GET /api/log/push: no answer, not even headers, within 3.0 s: a proxy buffers the stream; in nginx set proxy_buffering off');
    expect(result.code).toBe(1);
  });

  it('names the wrong Host header: the page could not start builds, and which variable to set', async () => {
    proxied = await startProxiedServer('wrong-host', 'none');
    const result = await doctor(proxied);
    expect(result.stdout).toContain("✗ the page's POST is refused (403 forbidden_origin): ");
    // The server's message names the variables; doctor adds the value for this URL.
    expect(result.stdout).toMatch(/set PUBLIC_URL .*; for this URL: PUBLIC_URL=https:\/\/localhost:\d+\n/);
    expect(result.stdout).toContain(`PUBLIC_URL=${proxied.nginx.url}\n`);
    expect(result.code).toBe(1);
  });

  it('names a proxy that compresses the stream', async () => {
    proxied = await startProxiedServer('compressing', 'trust-proxy');
    const result = await doctor(proxied);
    expect(result.stdout).toContain('✗ the stream is compressed (Content-Encoding: gzip)');
    expect(result.stdout).toContain('gzip_types');
    expect(result.code).toBe(1);
  });
});
