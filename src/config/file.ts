// Reading a configuration file: YAML (.yaml, .yml) or JSON (.json) by extension. Relative paths
// inside it resolve against its folder.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors.ts';
import { describeError } from '../common/describe-error.ts';

export interface LoadedConfig {
  conf: unknown;
  /** absolute path of the file */
  file: string;
  /** the file's folder: relative paths in the configuration resolve against it */
  baseDir: string;
}

export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  const absolute = path.resolve(file);
  const fail = (message: string): never => {
    throw new ConfigError([{ path: '', message }], absolute);
  };
  const ext = path.extname(absolute).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext)) fail(`expected a .yaml, .yml or .json file, got '${ext || 'no extension'}'`);
  let text = '';
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    fail(`cannot read the configuration file (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`);
  }
  const conf = ext === '.json' ? parseJson(text, fail) : parseYaml(text, absolute);
  return { conf, file: absolute, baseDir: path.dirname(absolute) };
}

function parseJson(text: string, fail: (message: string) => never): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return fail(`expected valid JSON: ${describeError(err)}`);
  }
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    // one problem per syntax error; the first line of yaml's message names line and column
    const problems = doc.errors.map((e) => ({ path: '', message: `expected valid YAML: ${e.message.split('\n')[0]!.replace(/:$/, '')}` }));
    throw new ConfigError(problems, file);
  }
  return doc.toJS();
}
