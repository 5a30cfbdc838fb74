import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../command-context.js';
import { followBuild } from '../follow-build.js';

/** The arguments of `buildlog build`. */
export interface BuildCommandOptions {
  readonly projectPath: string;
  readonly cancelOnExit: boolean;
  /** Given by the caller to make a whole re-run of the CLI safe; otherwise one per invocation. */
  readonly idempotencyKey: string | undefined;
}

/**
 * `buildlog build <path>`: starts a build and follows it to its end. The POST carries an
 * Idempotency-Key, so the retries of a lost answer find the same build instead of starting
 * another.
 */
export async function runBuildCommand(context: CommandContext, options: BuildCommandOptions): Promise<number> {
  const idempotencyKey = options.idempotencyKey ?? `buildlog-${randomUUID()}`;
  const { build, isNew } = await context.client.startBuild(options.projectPath, idempotencyKey);
  context.printer.notice(
    isNew
      ? `build ${build.id} ${build.status}: ${build.projectPath}`
      : `build ${build.id} was already started with this Idempotency-Key (${build.status}): ${build.projectPath}`,
  );
  return followBuild(context, { buildId: build.id, cancelOnExit: options.cancelOnExit });
}
