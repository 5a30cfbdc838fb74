// Cluster tests start redis-server processes of their own; without it, say so in one line instead of failing later.
import fs from 'node:fs';
import path from 'node:path';

const onPath = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'redis-server'));
if (!onPath.some((candidate) => fs.existsSync(candidate))) {
  console.error('Cluster tests need redis-server on PATH: install it with "apt-get update && apt-get install -y redis-server" (or run npm run test:all, which does).');
  process.exit(1);
}
