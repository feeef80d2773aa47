import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `seamwork start` leaves for the other commands: the API URL and the handlers' environment. */
export interface LocalState {
  apiUrl: string;
  env: Record<string, string>;
  startedAt: string;
  pid: number;
}

/** Reads `.seamwork/local.json` and applies its environment, or explains how to get one. */
export function useLocalState(stateDir = join(process.cwd(), '.seamwork')): LocalState {
  const file = join(stateDir, 'local.json');
  if (!existsSync(file)) throw new Error(`No local stack found (${file} is missing). Start one with \`npm start\` in another terminal.`);
  const state = JSON.parse(readFileSync(file, 'utf8')) as LocalState;
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new Error(`The local stack that wrote ${file} (pid ${state.pid}) is not running. Start one with \`npm start\`.`);
  }
  Object.assign(process.env, state.env);
  return state;
}
