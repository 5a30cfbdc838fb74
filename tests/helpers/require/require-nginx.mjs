// Proxy tests run the real server behind Debian's nginx; without it, say so in one line instead of failing later.
import fs from 'node:fs';
import path from 'node:path';

const onPath = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'nginx'));
const found = [...onPath, '/usr/sbin/nginx'].find((candidate) => fs.existsSync(candidate));
if (!found) {
  console.error('Proxy tests need nginx: install it with "apt-get update && apt-get install -y nginx" (or run npm run test:all, which does).');
  process.exit(1);
}
