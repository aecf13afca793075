// The request mix as a user gives it: `--request 'METHOD PATH [@bodyfile]'`
// (repeatable, weight 1 each), or `requests` in a config file, each kind with
// method, path, headers, body or bodyFile, and weight. Every problem is one
// line naming the request and what to do.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { SetupError } from '../errors.js';
import type { RequestKind } from '../load/request-mix.js';
import { headerProblem, methodProblem, pathProblem } from '../load/request-line.js';

/** A config file's request kind (gate-config.schema.json, `requests`). */
export interface RequestKindConfig {
  name?: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Read when the options are; relative to the config file's directory (gate.ts resolves it). */
  bodyFile?: string;
  weight?: number;
}

/** Content-Type of a body file given on the command line, by its extension; anything else is bytes. */
const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml',
  '.html': 'text/html; charset=utf-8',
};

function readBody(file: string, where: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new SetupError(
      `${where}: cannot read the body file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a file that exists`,
    );
  }
}

function checkMethodAndPath(method: string, path: string, where: string): void {
  const problem = methodProblem(method) ?? pathProblem(path);
  if (problem) throw new SetupError(`${where}: ${problem}`);
}

/** One `--request 'METHOD PATH [@bodyfile]'`. */
export function parseRequestSpec(spec: string): RequestKind {
  const where = `--request ${JSON.stringify(spec)}`;
  const parts = spec.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && !parts[2]!.startsWith('@'))) {
    throw new SetupError(
      `${where} is not 'METHOD PATH [@bodyfile]'; use e.g. --request 'GET /' --request 'POST /submit @order.json'`,
    );
  }
  const method = parts[0]!.toUpperCase();
  const path = parts[1]!;
  checkMethodAndPath(method, path, where);
  const file = parts[2]?.slice(1);
  if (file === '') throw new SetupError(`${where}: name the body file after @`);
  const body = file === undefined ? null : readBody(file, where);
  const headers: Record<string, string> =
    file === undefined
      ? {}
      : { 'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' };
  return { name: `${method} ${path}`, method, path, headers, body, weight: 1 };
}

/** One kind from a config file (the schema has checked its types). */
export function requestFromConfig(kind: RequestKindConfig, index: number): RequestKind {
  const where = `requests[${index}]`;
  const method = kind.method.toUpperCase();
  checkMethodAndPath(method, kind.path, where);
  for (const [name, value] of Object.entries(kind.headers ?? {})) {
    const problem = headerProblem(name, value);
    if (problem) throw new SetupError(`${where}: ${problem}`);
  }
  if (kind.body !== undefined && kind.bodyFile !== undefined)
    throw new SetupError(`${where}: give body or bodyFile, not both`);
  const body =
    kind.bodyFile !== undefined
      ? readBody(kind.bodyFile, where)
      : kind.body !== undefined
        ? Buffer.from(kind.body)
        : null;
  return {
    name: kind.name ?? `${method} ${kind.path}`,
    method,
    path: kind.path,
    headers: kind.headers ?? {},
    body,
    weight: kind.weight ?? 1,
  };
}

/** The mix from option values: the command line's `request` specs over a config file's `requests`; null: none given. */
export function readRequests(values: Record<string, unknown>): RequestKind[] | null {
  const specs = values.request as string[] | undefined;
  const kinds = specs?.length
    ? specs.map(parseRequestSpec)
    : (values.requests as RequestKindConfig[] | undefined)?.map(requestFromConfig);
  if (!kinds?.length) return null;
  const seen = new Set<string>();
  for (const kind of kinds) {
    if (seen.has(kind.name))
      throw new SetupError(
        `the request ${JSON.stringify(kind.name)} is given twice; give it once with a weight, or name each (name in the config file)`,
      );
    seen.add(kind.name);
  }
  return kinds;
}
