// A container's network namespace seen from the host: /proc/<PID>/net of any
// process in it shows the namespace's own counters, so nothing needs to run
// in the container (an image may have no shell or cat).
import { readNetCounters, type NetCounterSource } from '../net-counters.js';

/** The counters of the namespace of `hostPid` (the container's init process, from inspect's State.Pid). */
export function containerNetCounters(hostPid: number): NetCounterSource | string {
  if (!(hostPid > 0)) return 'the engine did not say which host process runs the container';
  const dir = `/proc/${hostPid}/net`;
  return { describe: `the container's network namespace (${dir} on the host)`, read: () => readNetCounters(dir) };
}
