import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildService } from '../../src/builds/build-service.js';
import { BuildStore } from '../../src/builds/build-store.js';
import { LocalEventLog } from '../../src/events/local-event-log.js';
import { createLogger } from '../../src/logger.js';
import { encodeFrame } from '../../src/sse/encode-frame.js';
import { describeBuildsPort } from '../helpers/builds-port-contract.js';

describeBuildsPort('BuildService (one process)', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'local-builds-port-'));
  // Stands in for yarn: each step runs a while, so that builds stay queued or running.
  const yarnBin = path.join(root, 'slow-yarn');
  fs.writeFileSync(yarnBin, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  const projects = ['a', 'b', 'c'].map((name) => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    return dir;
  });
  const store = new BuildStore(path.join(root, 'data'));
  const eventLog = new LocalEventLog({ historyFile: (id) => store.historyFile(id), encodeFrame, logger: createLogger('silent') });
  const settings = {
    maxConcurrentBuilds: 1,
    maxQueuedBuilds: 1,
    buildTimeoutMs: 60000,
    yarnBin,
    inheritedEnv: { path: process.env.PATH ?? '/usr/bin:/bin', home: os.homedir(), lang: 'C.UTF-8' },
    tmpRoot: root,
    keepBuilds: 0,
    keepDays: 0,
    workerName: 'local-test',
    killGraceMs: 200,
  };
  const builds = new BuildService(store, eventLog, settings, createLogger('silent'));
  await builds.recover();
  return {
    builds,
    capacity: 2,
    projects,
    close: async () => {
      await builds.shutdown();
      eventLog.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
});
