// Browser tests drive Debian's Chromium; without it, say so in one line instead of failing later.
import fs from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  console.error(`Browser tests need Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium".`);
  process.exit(1);
}
