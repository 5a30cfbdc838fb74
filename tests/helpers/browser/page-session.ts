import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ProjectsRoot } from '../projects.js';
import type { TestServer } from '../test-server.js';
import { launchBrowser, newContext, openPage } from './browser.js';
import { makePageProjects, startPageServer } from './page-server.js';

type ContextOptions = Parameters<typeof newContext>[1];

/** What a suite of page tests sets up. `context` and `page` have no default, so every suite says both. */
export interface PageSessionOptions {
  /** Runs on the fresh projects root before the server starts: fixture options, extra projects. */
  readonly prepareProjects?: (projects: ProjectsRoot) => void;
  /** Extra environment for the server (e.g. AUTH_TOKEN). */
  readonly serverEnv?: Record<string, string>;
  /** False for suites whose tests start and stop servers themselves. */
  readonly startsServer?: boolean;
  /**
   * 'per-suite': one browser context for every test; the tests check `errors` themselves.
   * 'per-test': a fresh context for each test, after which `errors` must be empty and the context is closed.
   */
  readonly context: 'per-suite' | 'per-test';
  /** Where the page opens in each new context: the server's home, a blank page, or none (the tests open their own). */
  readonly page: 'server' | 'about:blank' | 'none';
}

/** A suite's projects, server, browser, context and page; the suite's hooks fill them in. */
export interface PageSession {
  readonly projects: ProjectsRoot;
  readonly server: TestServer;
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught errors of the pages the session opened in the current context. */
  readonly errors: string[];
  /** Opens another tab in the current context; its uncaught errors join `errors`. */
  openTab(url: string): Promise<Page>;
  /** Closes the context and opens the page again in a new one with these options (e.g. dark colours). */
  reopenPage(contextOptions: ContextOptions): Promise<Page>;
}

/**
 * Registers the beforeAll/afterAll (and, per test, beforeEach/afterEach) hooks that give a
 * suite real Chromium and the real server on a copy of the fixture projects. Call it at the
 * top of a `describe`; a suite's own beforeAll registered after it runs once all is up.
 */
export function usePageSession(options: PageSessionOptions): PageSession {
  const startsServer = options.startsServer ?? true;
  if (options.page === 'server' && !startsServer) throw new Error("usePageSession: page 'server' needs startsServer");
  let projects: ProjectsRoot | undefined;
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let errors: string[] = [];

  async function openContext(contextOptions?: ContextOptions): Promise<void> {
    context = await newContext(filled(browser, 'browser'), contextOptions);
    errors = [];
    page = undefined;
    if (options.page === 'none') return;
    const url = options.page === 'server' ? filled(server, 'server').url : 'about:blank';
    ({ page } = await openPage(context, url, errors));
  }

  beforeAll(async () => {
    projects = makePageProjects();
    options.prepareProjects?.(projects);
    if (startsServer) server = await startPageServer(projects, options.serverEnv);
    browser = await launchBrowser();
    if (options.context === 'per-suite') await openContext();
  });

  // Closing the browser closes its contexts too. Optional chaining: a failed beforeAll leaves some unset.
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    projects?.remove();
  });

  if (options.context === 'per-test') {
    beforeEach(() => openContext());
    afterEach(async () => {
      expect(errors).toEqual([]);
      await filled(context, 'context').close();
    });
  }

  return {
    get projects() {
      return filled(projects, 'projects');
    },
    get server() {
      return filled(server, 'server');
    },
    get browser() {
      return filled(browser, 'browser');
    },
    get context() {
      return filled(context, 'context');
    },
    get page() {
      return filled(page, 'page');
    },
    get errors() {
      return errors;
    },
    openTab: async (url) => (await openPage(filled(context, 'context'), url, errors)).page,
    reopenPage: async (contextOptions) => {
      await filled(context, 'context').close();
      await openContext(contextOptions);
      return filled(page, 'page');
    },
  };
}

/** A field the hooks fill in; reading it earlier, or one the options leave out, is a mistake in the suite. */
function filled<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`session.${name} is not set: read it inside a test or hook, and check the suite's usePageSession options`);
  return value;
}
