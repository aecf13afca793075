// CI views: a Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment)
// and JUnit XML (pass/fail per check and per restart, for any CI). They
// render the checks' judgements and never judge: a check that judges each
// instance on its own (a kind of a request mix) is a testcase per instance.
import type { ResultDocument } from '../result/document.js';
import { harnessText, kernelText, listenerText } from '../evidence.js';
import { forMarkdownCell, forXml } from './safe-text.js';
import { switchovers } from './switchover.js';
import { isOurServer, restartsName } from './whose.js';
import { count, plainMs as ms } from '../format.js';

export function markdownSummary(doc: ResultDocument): string {
  const lines = [
    `### reuseport-lab: ${doc.inconclusive ? '⚠️ inconclusive (the load generator fell behind)' : doc.passed ? '✅ passed' : '❌ failed'}`,
    '',
    `${count(doc.totalRequests)} requests, **${count(doc.failedRequests)} failed**, ${isOurServer(doc) ? `${doc.restarts.length} ${cell(doc.parameters.strategy)} restarts` : `${doc.restarts.length} restarts by ${cell(restartsName(doc))}`}. ${cell(doc.runtime.description)}.`,
    '',
    '| check | result |',
    '| --- | --- |',
    ...doc.checks.map(
      (c) =>
        `| ${c.skipped ? '⚪' : c.passed ? '✅' : c.inconclusive ? '⚠️' : '❌'} ${cell(c.name)} | ${cell(c.detail)} |`,
    ),
    '',
    '| restart | old → new | outcome | new ready | old exit after SIGTERM | switchover p99 / max |',
    '| ---: | --- | --- | ---: | ---: | ---: |',
    ...switchovers(doc).map(
      (s) =>
        `| #${s.index} | ${s.oldPid ?? '–'} → ${s.newPid ?? '–'} | ${cell(s.outcome)} | ${ms(s.readyMs)} | ${ms(s.oldGoneMs)} | ${s.latency ? `${Math.round(s.latency.p99)} / ${Math.round(s.latency.max)} ms` : '–'} |`,
    ),
    '',
    '| restart | old listener | kernel | harness |',
    '| ---: | --- | --- | --- |',
    ...switchovers(doc).map(
      (s) =>
        `| #${s.index} | ${cell(listenerText(s.evidence.oldListener)) || '–'} | ${cell(kernelText(s.evidence.kernel))} | ${cell(harnessText(s.evidence.harness))} |`,
    ),
    '',
    `Steady state (warm-up): ${doc.steady.latency ? `p99 ${Math.round(doc.steady.latency.p99)} ms, max ${Math.round(doc.steady.latency.max)} ms` : 'no responses'}; latency budget ${doc.parameters.latencyBudgetMs} ms.`,
    '',
    `Load: ${cell(doc.parameters.loadDescription)}.`,
  ];
  return `${lines.join('\n')}\n`;
}

const xml = forXml;
const cell = forMarkdownCell;

export function junitXml(doc: ResultDocument): string {
  // An inconclusive check is a JUnit error (the test could not be carried out), not a failure of the server.
  const cases: { name: string; id?: string; failure?: string; error?: string; skipped?: string }[] = [
    ...doc.checks.map((c) => ({
      name: c.name,
      id: c.id,
      failure: c.passed || c.inconclusive ? undefined : c.detail,
      error: c.inconclusive ? c.detail : undefined,
      skipped: c.skipped ? c.detail : undefined,
    })),
    ...switchovers(doc).map((s) => ({
      name: `restart #${s.index} ${s.oldPid ?? '?'} -> ${s.newPid ?? '?'}`,
      failure: s.exitCode === 0 ? undefined : `${s.outcome}`,
    })),
  ];
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const errors = cases.filter((c) => c.error !== undefined).length;
  // Absent when zero, as every report written before inconclusive runs had it.
  const errorsAttribute = errors ? ` errors="${errors}"` : '';
  const seconds = ((doc.endedAt - doc.startedAt) / 1000).toFixed(3);
  const body = cases
    .map((c) => {
      const inner =
        c.failure !== undefined
          ? `<failure message="${xml(c.failure)}"/>`
          : c.error !== undefined
            ? `<error message="${xml(c.error)}"/>`
            : c.skipped !== undefined
              ? `<skipped message="${xml(c.skipped)}"/>`
              : '';
      return `    <testcase classname="reuseport-lab${c.id ? `.${c.id}` : ''}" name="${xml(c.name)}">${inner}</testcase>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="${cases.length}" failures="${failures}"${errorsAttribute} time="${seconds}">
  <testsuite name="zero-downtime restart (${xml(doc.parameters.strategy)})" tests="${cases.length}" failures="${failures}"${errorsAttribute} skipped="${skipped}" time="${seconds}">
${body}
  </testsuite>
</testsuites>
`;
}
