import path from 'node:path';
import type { CompiledChildren } from './compile-children.js';
import { repoDir } from './paths.js';

export const SERVER_KINDS = ['LIMIT', 'SEED', 'OURS'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** What a server under test is started with. */
export interface ServerLaunch {
  readonly entry: string;
  readonly env: Record<string, string>;
}

export interface LaunchContext {
  readonly port: number;
  readonly projectsRoot: string;
  readonly dataDir: string;
  readonly maxClients: number;
}

/** The entry and environment of each server; all run on the same node with the same preload. */
export function serverLaunch(kind: ServerKind, children: CompiledChildren, context: LaunchContext): ServerLaunch {
  const common = { PORT: String(context.port), HOST: '127.0.0.1', PROJECTS_ROOT: context.projectsRoot };
  if (kind === 'LIMIT') return { entry: children.limitServer, env: common };
  if (kind === 'SEED') return { entry: children.seedServer, env: common };
  return {
    entry: path.join(repoDir, 'dist', 'main.js'),
    env: {
      ...common,
      DATA_DIR: context.dataDir,
      MAX_CLIENTS: String(context.maxClients),
      // Every bench client comes from 127.0.0.1: only the pool's cap may apply.
      MAX_CLIENTS_PER_ADDRESS: '0',
      LOG_LEVEL: 'silent',
      HEARTBEAT_MS: String(2 ** 31 - 1),
    },
  };
}
