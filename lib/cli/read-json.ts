import { readFileSync } from 'node:fs';

/** Reads and parses a JSON file, with errors that name the file and say what is wrong. */
export function readJsonFile(path: string, what = 'file'): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory, not a file' : (err as Error).message;
    throw new Error(`The ${what} ${path} ${why}.`);
  }
  if (text.trim() === '') throw new Error(`The ${what} ${path} is empty.`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`The ${what} ${path} is not valid JSON: ${(err as Error).message}.`);
  }
}
