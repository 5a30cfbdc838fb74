import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts', 'browser');

/** Debian's Chromium, headless, with nothing that reaches the network by itself. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A context like a person's browser window: a fixed size, light colours unless told. */
export function newContext(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', acceptDownloads: true, ...options });
}

/** A page whose uncaught errors are collected into `errors` (tests assert there are none); several pages may share one list. */
export async function openPage(context: BrowserContext, url: string, errors: string[] = []): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return { page, errors };
}

/** Saves a screenshot under test-artifacts/browser/. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * globalThis as functions that run in the page see it (page.evaluate and friends). The project
 * type-checks without the DOM library, which would change Node's types in src/, so code that
 * runs in the page is loosely typed.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PageWindow = any;
