import { BuildLogError, createBuildLogClient } from '/client.js';
import { BuildLog } from './build-log.js';
import { BuildSummary } from './build-summary.js';
import { ConnectionView } from './connection-view.js';
import { findFirstError } from './first-error.js';
import { isFinished } from './format.js';
import { HistoryView } from './history-view.js';
import { LogSearch } from './log-search.js';
import { LogView } from './log-view.js';
import { formatHash, parseHash } from './permalink.js';
import { ProjectForm } from './project-form.js';
import { wireRawLogDownload } from './raw-log-download.js';
import { SearchBox } from './search-box.js';
import { StreamCheck } from './stream-check.js';
import { StreamHub } from './stream-hub.js';
import { createTokenPrompt } from './token-dialog.js';
import { TokenStore } from './token-store.js';
import { onNextFrame } from './frame.js';
import { Poller } from './poller.js';
import { SidebarTabs } from './sidebar-tabs.js';
import { WorkersView } from './workers-view.js';

/** The page: wires the typed client, the shared streams and the views together. */

const HISTORY_LIMIT = 50;
const WORKERS_POLL_MS = 2000;
const SHOW_TIME_KEY = 'buildlog.showTime';

const $ = (selector) => document.querySelector(selector);

const tokens = new TokenStore();
const askToken = createTokenPrompt({ dialog: $('#token-dialog'), tokens });
// Every request and stream of the page goes through the client; a 401 asks for the token
// (first from the other tabs, then from the user) and tries again with it. The token goes in
// the Authorization header, never into a URL.
const client = createBuildLogClient({
  server: location.origin,
  token: () => tokens.get(),
  onUnauthorized: async ({ wasTokenSent }) => (await askToken(wasTokenSent)) !== null,
});
const hub = new StreamHub({ client, tokens });
const connection = new ConnectionView($('#connection'), { onAskToken: () => askToken(false) });
// One look at how the stream arrives, by the tab that holds the streams (another tab's look
// would cost a connection of the six HTTP/1.1 allows): a buffering proxy shows there.
const streamCheck = new StreamCheck({ tokens, onProblem: (message) => connection.setProblem('held-back', message) });
hub.onRoleChange((isLeader) => {
  connection.setShared(!isLeader);
  if (isLeader) streamCheck.start();
});

const notice = $('#notice');
function showNotice(message) {
  notice.textContent = message;
  notice.hidden = !message;
}

/**
 * A POST refused by the Host or Origin rules (403 forbidden_host / forbidden_origin) fails
 * every POST of this page, typically behind a proxy the server was not told about: the
 * connection line shows the server's message, which names the variable to set, instead of
 * "Connected". Returns whether the error was one of those.
 */
function showRefusal(error) {
  const isRefusal = error instanceof BuildLogError && error.status === 403 && (error.code === 'forbidden_origin' || error.code === 'forbidden_host');
  if (isRefusal) {
    connection.setProblem('refused', error.message);
    showNotice('');
  }
  return isRefusal;
}

// ---- builds and their history ----

/** Every build this page knows, by id; kept current by the global stream. */
const builds = new Map();
const history = new HistoryView($('#history-list'), $('#history-empty'));
const summary = new BuildSummary($('#build'));

/** How far a build has got, to keep the newest state when a list and an event cross. */
function progress(build) {
  const steps = build.steps ?? [];
  return [
    isFinished(build.status) ? 1 : 0,
    steps.filter((step) => step.finishedAt).length,
    steps.filter((step) => step.startedAt).length,
    build.startedAt ? 1 : 0,
  ];
}

function isAtLeastAsFar(a, b) {
  const pa = progress(a);
  const pb = progress(b);
  for (let i = 0; i < pa.length; i += 1) if (pa[i] !== pb[i]) return pa[i] > pb[i];
  return true;
}

function upsertBuild(build) {
  const known = builds.get(build.id);
  if (known && !isAtLeastAsFar(build, known)) return;
  builds.set(build.id, build);
  onNextFrame(renderHistory);
  if (build.id === selected.id) {
    summary.render(selected.id, build);
    logView.setSteps(build.steps);
  }
}

function renderHistory() {
  const newest = [...builds.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  for (const old of newest.slice(HISTORY_LIMIT * 2)) if (old.id !== selected.id) builds.delete(old.id);
  history.render(newest.slice(0, HISTORY_LIMIT), selected.id);
}

async function refreshHistory() {
  try {
    for (const build of await client.listBuilds({ limit: HISTORY_LIMIT })) upsertBuild(build);
  } catch (error) {
    showNotice(`Could not list the builds: ${error.message}`);
  }
}

// ---- the selected build's log ----

const log = new BuildLog();
const search = new LogSearch();
const logElement = $('#log');
const jumpLatest = $('#jump-latest');
const followButton = $('#follow-button');
let linesAtPause = 0;

const logView = new LogView(logElement, {
  log,
  search,
  onBeforeRender: takeLogChanges,
  onRender: renderLogStatus,
  onFollowChange(isFollowing) {
    linesAtPause = log.lines.length;
    followButton.setAttribute('aria-pressed', String(isFollowing));
    jumpLatest.hidden = isFollowing;
  },
});

/** Once per frame: the lines that arrived update the search. */
function takeLogChanges() {
  const { wasCleared, lineIndexes } = log.takeChanges();
  if (wasCleared) search.clearLines();
  if (lineIndexes.length > 0) search.update(log.lines, lineIndexes);
  searchBox.renderCount();
}

function renderLogStatus() {
  const count = log.lines.length;
  const text = `${count.toLocaleString('en')} line${count === 1 ? '' : 's'}`;
  const summaryElement = $('#log-summary');
  if (summaryElement.textContent !== text) summaryElement.textContent = text;
  logElement.dataset.lines = String(count);
  if (!logView.isFollowing) {
    const fresh = Math.max(0, count - linesAtPause);
    jumpLatest.textContent = fresh > 0 ? `↓ Jump to latest (${fresh.toLocaleString('en')} new)` : '↓ Jump to latest';
  }
}

/** The build shown, and how to stop following it. */
const selected = { id: null, stop: null };

function selectBuild(id) {
  if (id === selected.id) return;
  selected.stop?.();
  selected.stop = null;
  selected.id = id;
  log.clear();
  search.clearLines();
  logView.showBuild(id);
  const build = id ? builds.get(id) : null;
  summary.render(id, build ?? null);
  logView.setSteps(build?.steps ?? []);
  renderHistory();
  connection.set('build', null);
  $('#log-tools').hidden = !id;
  if (!id) return;
  selected.stop = hub.subscribe(`build:${id}`, {
    onEvent: (name, _eventId, data) => onBuildEvent(id, name, data),
    onState: (state, detail) => {
      if (selected.id === id) connection.set('build', state, detail);
    },
  });
  if (!build) {
    client.getBuild(id).then(upsertBuild, (error) => {
      if (error instanceof BuildLogError && error.status === 404) showNotice(`There is no build ${id} on this server.`);
    });
  }
}

function onBuildEvent(id, name, data) {
  if (id !== selected.id) return;
  if (name === 'log') {
    log.append(data);
    logView.refresh();
  } else if (name === 'build' || name === 'end') {
    upsertBuild(data.build);
  } else if (name === 'reset') {
    // The tab holding the stream starts this build over: rebuild from what follows.
    log.clear();
    logView.logCleared();
  }
}

setInterval(() => {
  const build = selected.id ? builds.get(selected.id) : null;
  if (!build || isFinished(build.status)) return;
  summary.tick(build);
  logView.tickClock();
}, 1000);

// ---- the address: #build=<id>&L<n> ----

function followHash() {
  const { build, line } = parseHash(location.hash);
  selectBuild(build);
  logView.setTarget(build ? line : null);
}
addEventListener('hashchange', followHash);

// ---- toolbar ----

const showTime = $('#show-time');
try {
  showTime.checked = localStorage.getItem(SHOW_TIME_KEY) === '1';
} catch {
  // Storage can be disabled: timestamps then start hidden.
}
logView.setShowTime(showTime.checked);
showTime.addEventListener('change', () => {
  logView.setShowTime(showTime.checked);
  try {
    localStorage.setItem(SHOW_TIME_KEY, showTime.checked ? '1' : '0');
  } catch {
    // Not remembered, then.
  }
});

followButton.addEventListener('click', () => {
  if (logView.isFollowing) logView.pauseFollowing();
  else logView.follow();
});
jumpLatest.addEventListener('click', () => {
  logView.follow();
  logElement.focus();
});

$('#first-error').addEventListener('click', () => {
  const index = findFirstError(log.lines);
  if (index === -1) {
    showNotice('No error lines in this log: no line names an error and nothing was written to stderr.');
    return;
  }
  showNotice('');
  goToLine(index + 1);
});

/** Points the address at a line; the hashchange highlights it and scrolls to it. */
function goToLine(number) {
  const hash = formatHash(selected.id, number);
  if (location.hash === hash) logView.setTarget(number);
  else location.hash = hash;
}

const searchBox = new SearchBox($('#search-form'), {
  search,
  lines: () => log.lines,
  onMove: (lineIndex) => logView.revealLine(lineIndex),
  onChange: () => logView.refresh(),
});

wireRawLogDownload($('#download-link'), { tokens, readRawLog: (id) => client.readLogBlob(id, { raw: true }), onError: showNotice });

$('#cancel-button').addEventListener('click', async () => {
  if (!selected.id) return;
  try {
    const { build, wasRunning } = await client.cancelBuild(selected.id);
    upsertBuild(build);
    connection.setProblem('refused', null);
    showNotice(wasRunning ? '' : 'That build is already over.');
  } catch (error) {
    if (showRefusal(error)) return;
    showNotice(`Could not cancel: ${error.message}`);
  }
});

// ---- the workers (GET /api/workers), polled only while their tab is shown in a visible page ----

const workersView = new WorkersView($('#workers-list'), $('#workers-message'));

async function refreshWorkers() {
  try {
    workersView.render(await client.workers());
  } catch (error) {
    workersView.showError(`Could not list the workers: ${error.message}`);
    // The user dismissed the token dialog: asking again every 2 s would nag, so wait for a token.
    if (error instanceof BuildLogError && error.status === 401) await tokens.next();
  }
}

const workersPoller = new Poller({ task: refreshWorkers, intervalMs: WORKERS_POLL_MS });
const sidebarTabs = new SidebarTabs($('.sidebar-tabs'), { onSelect: updateWorkersPolling });

function updateWorkersPolling() {
  if (sidebarTabs.current === 'workers' && document.visibilityState === 'visible') workersPoller.start();
  else workersPoller.stop();
}
document.addEventListener('visibilitychange', updateWorkersPolling);

// ---- starting builds ----

const projectForm = new ProjectForm($('#build-form'), {
  async onSubmit(projectPath) {
    try {
      const { build } = await client.startBuild(projectPath);
      connection.setProblem('refused', null);
      showNotice('');
      upsertBuild(build);
      location.hash = formatHash(build.id);
    } catch (error) {
      if (showRefusal(error)) return;
      if (error instanceof BuildLogError && error.code === 'already_building' && error.build) {
        upsertBuild(error.build);
        location.hash = formatHash(error.build.id);
        showNotice('That project is already building: here is its build.');
        return;
      }
      showNotice(error.message);
    }
  },
});

client.listProjects().then(
  (projects) => projectForm.showProjects(projects),
  (error) => showNotice(`Could not list the projects: ${error.message}`),
);

// ---- start ----

hub.subscribe('global', {
  onEvent(name, _id, data) {
    if (name === 'build') upsertBuild(data.build);
    if (name === 'reset') void refreshHistory();
  },
  onState(state, detail) {
    connection.set('global', state, detail);
    // Whatever happened while not connected is in the list.
    if (state === 'connected') void refreshHistory();
  },
});

followHash();
