// The checks HTTP/2 adds, per load mode that spoke it (--protocol h2c|h2):
// no stream the server took was lost, and every session was warned (a
// GOAWAY notice) before its final GOAWAY. Refused streams (never processed)
// are failures of the request ledger's own (refused_stream, in
// zero-failed-requests) unless the client sent them again (--retry-refused);
// these checks say what HTTP/2 adds: which session and stream, and why.
import { restartAt } from '../evidence.js';
import { count, counted } from '../format.js';
import { errorCodeName, NOTICE_LAST_STREAM_ID } from '../load/h2-ledger.js';
import { MODE_NAMES } from '../load/modes.js';
import type { RunRecord } from '../result/document.js';
import type { CheckDefinition, Judgement } from './check.js';

type Mode = RunRecord['modes'][number];
type Http2 = NonNullable<Mode['http2']>;

/** The modes that spoke HTTP/2, with their records. */
function http2Modes(run: RunRecord): { mode: Mode; http2: Http2 }[] {
  return run.modes.flatMap((mode) => (mode.http2 ? [{ mode, http2: mode.http2 }] : []));
}

const seconds = (run: RunRecord, at: number) => `${((at - run.startedAt) / 1000).toFixed(2)} s`;

/** Where in the run a moment falls: the restart whose switchover holds it, or the time. */
function when(run: RunRecord, at: number): string {
  const restart = restartAt(run, at);
  return restart === undefined ? `at ${seconds(run, at)}` : `in restart #${restart} (${seconds(run, at)})`;
}

function refusedText(run: RunRecord, http2: Http2): string {
  const s = http2.streams;
  const refused = s.refused + s.crossed;
  const resent = s.resentUnsent
    ? `; ${count(s.resentUnsent)} the client had queued but not written when a GOAWAY came went out on another session`
    : '';
  if (refused === 0) return `none refused${resent}`;
  const parts = [
    s.refused ? `${count(s.refused)} REFUSED_STREAM` : '',
    s.crossed ? `${count(s.crossed)} above a GOAWAY's last stream id` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const retry = run.parameters.retryRefused
    ? `sent again (${count(s.retried)} tries, ${count(s.answeredAfterRetry)} answered then)`
    : 'not sent again (--retry-refused shows what a client that does sees)';
  return `${count(refused)} refused, never processed (${parts}): ${retry}${resent}`;
}

function lostJudgement(run: RunRecord, mode: Mode, http2: Http2): Judgement {
  const { reset, cut } = http2.streams;
  const name = `no stream the server took was lost (${MODE_NAMES[mode.mode]}, ${http2.protocol})`;
  if (reset + cut === 0)
    return {
      name,
      passed: true,
      detail: `${counted(mode.answered, 'stream')} answered on ${counted(http2.sessions, 'session')}, none reset or cut; ${refusedText(run, http2)}`,
    };
  const named = http2.lost
    .slice(0, 5)
    .map(
      (l) =>
        `stream ${l.stream} of session ${l.session} ${l.how === 'reset' ? `reset (${errorCodeName(l.code)})` : 'cut when its connection ended'} ${when(run, l.at)}`,
    );
  const more = reset + cut > named.length ? `, and ${count(reset + cut - named.length)} more` : '';
  return {
    name,
    passed: false,
    detail: `${counted(reset + cut, 'stream')} the server had taken ${reset + cut === 1 ? 'was' : 'were'} lost (${count(reset)} reset at or below the last stream id, ${count(cut)} cut when the connection ended): ${named.join('; ')}${more}. A server that exits must finish every stream at or below the last stream id of its final GOAWAY first`,
  };
}

function noticeJudgement(mode: Mode, http2: Http2): Judgement {
  const g = http2.goaways;
  const name = `the server warned before its final GOAWAY (${MODE_NAMES[mode.mode]}, ${http2.protocol})`;
  const unwarned = g.finalsWithoutNotice + g.closedWithoutGoaway;
  if (unwarned === 0) {
    const gap = g.noticeToFinalMs ? `, the final one ${g.noticeToFinalMs.min}–${g.noticeToFinalMs.max} ms later` : '';
    return {
      name,
      passed: true,
      detail:
        g.count === 0
          ? 'no GOAWAY reached a session, and none was closed by the server without one: no session was open when a server went'
          : `${counted(g.notices, 'session')} got the notice first (last stream id ${NOTICE_LAST_STREAM_ID})${gap}`,
    };
  }
  const refused = http2.streams.crossed + http2.streams.refused;
  const parts = [
    g.finalsWithoutNotice
      ? `${counted(g.finalsWithoutNotice, 'session')} got the final GOAWAY with no notice first (a one-shot GOAWAY)`
      : '',
    g.closedWithoutGoaway
      ? `${counted(g.closedWithoutGoaway, 'session was', 'sessions were')} closed by the server with no GOAWAY at all`
      : '',
  ].filter(Boolean);
  return {
    name,
    passed: false,
    detail: `${parts.join('; ')}. A stream the client opens while that GOAWAY is on the wire crosses it and is refused (${count(refused)} here): a server should send a GOAWAY with last stream id ${NOTICE_LAST_STREAM_ID} first, wait a round trip (a PING), then the final one`,
  };
}

export const HTTP2_CHECKS: CheckDefinition[] = [
  {
    id: 'http2-streams-kept',
    name: 'no stream the server took was lost (HTTP/2)',
    needs: [],
    judge: (run) => http2Modes(run).map(({ mode, http2 }) => lostJudgement(run, mode, http2)),
  },
  {
    id: 'http2-goaway-notice',
    name: 'the server warned before its final GOAWAY (HTTP/2)',
    needs: [],
    judge: (run) => http2Modes(run).map(({ mode, http2 }) => noticeJudgement(mode, http2)),
  },
];
