/** What one soak scenario found, the verdict on it, and its row of the table `npm run soak` prints. */

export interface ScenarioResult {
  scenario: string;
  /** Distinct valid alerts answered 2xx at least once. */
  accepted: number;
  /** Of those, how many the register in Redis holds as observations of their symptoms. */
  decided: number;
  /** Valid alerts the senders gave up on: never answered 2xx. */
  unaccepted: number;
  /** Observations beyond the distinct alerts sent: a duplicate decided as a new observation. */
  extra: number;
  ncsExpected: number;
  ncsFound: number;
  /** Answers by status; a 5xx by status and error code ("503 RECURD_ERR_NOT_READY"); "no answer" when the connection failed. */
  statuses: Record<string, number>;
  /** The 5xx answers this scenario's fault makes expected, by the same key as `statuses`. */
  expected5xx: string[];
  longestMs: number;
  /** Longest answer to a request made while Redis was down or frozen; null when it never was. */
  longestWhileRedisDownMs: number | null;
  /** Anything else the run saw go wrong (an exit status, a batch given up on). */
  problems: string[];
}

export const NO_ANSWER = 'no answer';

export function lost(result: ScenarioResult): number {
  return result.accepted - result.decided;
}

/** What is wrong with a scenario's result; empty when it passed. */
export function verdict(result: ScenarioResult, redisTimeoutMs: number, marginMs: number): string[] {
  const wrong = [...result.problems];
  if (lost(result) > 0) wrong.push(`${lost(result)} accepted alert(s) never decided`);
  if (result.unaccepted > 0) wrong.push(`${result.unaccepted} valid alert(s) never accepted`);
  if (result.extra > 0) wrong.push(`${result.extra} observation(s) more than the distinct alerts sent: a duplicate decided again`);
  if (result.ncsFound !== result.ncsExpected) wrong.push(`${result.ncsFound} NCs found where the scenario raises ${result.ncsExpected}`);
  for (const [answer, count] of Object.entries(result.statuses)) {
    if (/^5\d\d/.test(answer) && !result.expected5xx.includes(answer)) wrong.push(`answered ${answer} ×${count}`);
  }
  if (result.longestWhileRedisDownMs !== null && result.longestWhileRedisDownMs > redisTimeoutMs + marginMs) {
    wrong.push(`an intake answer took ${Math.round(result.longestWhileRedisDownMs)} ms while Redis was down (redis.commandTimeout ${redisTimeoutMs} ms + ${marginMs} ms)`);
  }
  return wrong;
}

export const TABLE_HEADER = [
  '| scenario | accepted | decided | lost | NCs expected / found | answers | longest answer | longest while Redis down | verdict |',
  '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |',
];

/** Answers most frequent first: `202×1480, 503 RECURD_ERR_REDIS_UNREACHABLE×12`. */
function answers(statuses: Record<string, number>): string {
  return Object.entries(statuses)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([answer, count]) => `${answer}×${count}`)
    .join(', ');
}

export function tableRow(result: ScenarioResult, redisTimeoutMs: number, marginMs: number): string {
  const ms = (value: number): string => `${Math.round(value)} ms`;
  const down = result.longestWhileRedisDownMs === null ? '–' : ms(result.longestWhileRedisDownMs);
  const wrong = verdict(result, redisTimeoutMs, marginMs);
  return [
    '',
    result.scenario,
    result.accepted,
    result.decided,
    lost(result),
    `${result.ncsExpected} / ${result.ncsFound}`,
    answers(result.statuses),
    ms(result.longestMs),
    down,
    wrong.length === 0 ? 'pass' : `FAIL: ${wrong.join('; ')}`,
    '',
  ]
    .join(' | ')
    .trim();
}
