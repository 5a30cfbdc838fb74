import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/ of this repository. */
export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = path.dirname(benchDir);
