// Runs ./bin/facegate as an operator would, and reads its output.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export type CliResult = { code: number; stdout: string; stderr: string };

/** A runner of `./bin/facegate …` with this environment; never throws, returns the exit code. */
export function cliRunner(env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' }) {
  return async (...args: string[]): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await promisify(execFile)('./bin/facegate', args, { env });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
}

/** The last line of a command's output, parsed as JSON (the --json result). */
export const lastJson = (s: string): unknown => JSON.parse(s.trim().split('\n').pop()!);
