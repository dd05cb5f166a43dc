// Configuration problems: each names where (file and JSON path) and what was expected, so a
// user can fix every one of them from a single run.
import { formatProblem, type SchemaProblem } from '../common/schema.ts';

/** Where in the configuration (a JSON pointer, '' = the whole document) and what was expected. */
export type ConfigProblem = SchemaProblem;

export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    /** the configuration file, or a description such as '(embedded default)' */
    readonly source: string,
  ) {
    super(problems.map((p) => `${source}: ${formatProblem(p)}`).join('\n'));
    this.name = 'ConfigError';
  }
}
