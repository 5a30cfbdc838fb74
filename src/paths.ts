import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's root folder. This file sits in src/ (ts-jest) or dist/ (compiled), both
 * one level below the root, so the answer is the same either way.
 */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Folder of the static page. */
export const publicDir = path.join(repoRoot, 'public');
