#!/usr/bin/env node
// The harness's shape in four numbers (issue 18's before/after): lines of
// non-test TypeScript, the largest functions, how many modules write a
// default of a run setting, and how many imports point up the layers.
//   node scripts/dev/harness-shape.mjs [DIR]   (default: harness)
// Layers, lowest first: measurement (load clients, runtimes, strategies),
// judgement (scenario, checks, evidence), view (renders a result), command
// (parses a command line, runs a job).
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
const JUDGEMENT = /^(scenario|verdict|evidence)\.ts$|^(checks|result)\//;
const layerOf = (file) => {
  const rel = relative(root, file);
  if (COMMAND.test(rel)) return 3;
  if (rel.startsWith('view/')) return 2;
  if (JUDGEMENT.test(rel)) return 1;
  return 0;
};

let lines = 0;
const functions = [];
let upward = 0;
const upwardEdges = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  lines += text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
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
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const spec = statement.moduleSpecifier?.text;
    if (!spec?.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    if (!files.includes(target)) continue;
    if (layerOf(target) > layerOf(file)) {
      upward++;
      upwardEdges.push(`${relative(root, file)} -> ${relative(root, target)}`);
    }
  }
}
functions.sort((a, b) => b.lines - a.lines);
console.log(`modules: ${files.length}; lines: ${lines}`);
console.log(
  `largest functions: ${functions
    .slice(0, 5)
    .map((f) => `${f.where} ${f.lines}`)
    .join(', ')}`,
);
console.log(`upward imports: ${upward}${upwardEdges.length ? `\n  ${upwardEdges.join('\n  ')}` : ''}`);
