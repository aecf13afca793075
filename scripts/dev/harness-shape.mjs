#!/usr/bin/env node
// The harness's shape in numbers (issues 18 and 32, before and after): lines
// of non-test TypeScript, the largest functions, imports that point up the
// layers, import cycles, lines over 120 characters, and non-null assertions
// in the runtimes.
//   node scripts/dev/harness-shape.mjs [DIR]   (default: harness)
// Layers, lowest first: measurement (load clients, runtimes, strategies),
// the record (result/: what a run measured, as data), judgement (scenario,
// checks, evidence), view (renders a result), command (parses a command line,
// runs a job).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(process.argv[2] ?? 'harness');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.includes('/fixtures/')) files.push(path);
  }
})(root);

const COMMAND =
  /^(cli|main|report|judged-run|child-run|options|defaults)\.ts$|^(gate|compare|gallery|bench|commands)\//;
const JUDGEMENT = /^(scenario|run-record|verdict|evidence)\.ts$|^checks\//;
const layerOf = (file) => {
  const rel = relative(root, file);
  if (COMMAND.test(rel)) return 4;
  if (rel.startsWith('view/')) return 3;
  if (JUDGEMENT.test(rel)) return 2;
  if (rel.startsWith('result/')) return 1;
  return 0;
};

let lines = 0;
const functions = [];
let upward = 0;
const upwardEdges = [];
const edges = new Map(files.map((file) => [file, []]));
let longLines = 0;
let runtimeNonNull = 0;
// A place that lists the lanes: a top-level declaration that reads two or more
// of the lane families by name (modes, request kinds, the long lane, streams).
const LANE_FAMILIES = new Set(['modes', 'requests', 'longLane', 'stream']);
const lanePlaces = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  lines += text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  longLines += text.split('\n').filter((line) => line.length > 120).length;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const inRuntime = relative(root, file).startsWith('runtime/');
  const visit = (node) => {
    if (inRuntime && ts.isNonNullExpression(node)) runtimeNonNull++;
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name =
        node.name?.getText() ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : '(anonymous)');
      if (end - start + 1 >= 20) functions.push({ where: `${relative(root, file)} ${name}`, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const statement of source.statements) {
    const families = new Set();
    const look = (node) => {
      if (ts.isPropertyAccessExpression(node) && LANE_FAMILIES.has(node.name.text)) families.add(node.name.text);
      ts.forEachChild(node, look);
    };
    look(statement);
    if (families.size >= 2) {
      const name = statement.name?.getText() ?? statement.declarationList?.declarations[0]?.name.getText() ?? '?';
      lanePlaces.push(`${relative(root, file)} ${name} (${[...families].join(', ')})`);
    }
  }
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const spec = statement.moduleSpecifier?.text;
    if (!spec?.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    if (!files.includes(target)) continue;
    edges.get(file).push(target);
    if (layerOf(target) > layerOf(file)) {
      upward++;
      upwardEdges.push(`${relative(root, file)} -> ${relative(root, target)}`);
    }
  }
}
functions.sort((a, b) => b.lines - a.lines);

// Import cycles: the strongly connected components of more than one module (Tarjan).
const cycles = [];
{
  let index = 0;
  const indexOf = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const connect = (v) => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)) {
      if (!indexOf.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indexOf.get(w)));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(relative(root, w));
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const file of files) if (!indexOf.has(file)) connect(file);
}
console.log(`modules: ${files.length}; lines: ${lines}`);
console.log(
  `largest functions: ${functions
    .slice(0, 5)
    .map((f) => `${f.where} ${f.lines}`)
    .join(', ')}`,
);
console.log(`upward imports: ${upward}${upwardEdges.length ? `\n  ${upwardEdges.join('\n  ')}` : ''}`);
console.log(`import cycles: ${cycles.length}${cycles.map((c) => `\n  ${c.join(' <-> ')}`).join('')}`);
console.log(`lines over 120 characters: ${longLines}`);
console.log(`non-null assertions in runtime/: ${runtimeNonNull}`);
console.log(`places that list the lanes: ${lanePlaces.length}${lanePlaces.map((p) => `\n  ${p}`).join('')}`);
