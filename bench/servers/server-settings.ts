import path from 'node:path';

/** What the bench hands the LIMIT and SEED servers: the same variables as the real server. */
export interface BenchServerSettings {
  readonly port: number;
  readonly host: string;
  readonly projectsRoot: string;
  readonly retryMs: number;
}

export function readBenchServerSettings(env: NodeJS.ProcessEnv): BenchServerSettings {
  const port = Number(env.PORT);
  const projectsRoot = env.PROJECTS_ROOT?.split(':')[0];
  if (!Number.isInteger(port) || port <= 0 || !projectsRoot) throw new Error('PORT and PROJECTS_ROOT must be set');
  return { port, host: env.HOST ?? '127.0.0.1', projectsRoot, retryMs: Number(env.RETRY_MS ?? 3000) };
}

/** The project folder a POST names, relative to the root (the bench only ever names its fixture). */
export function projectDir(settings: BenchServerSettings, projectPath: string): string {
  return path.resolve(settings.projectsRoot, projectPath);
}
