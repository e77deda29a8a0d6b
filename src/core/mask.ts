/**
 * Message normalisation: mask the variable parts of a message so that the same failure on
 * another night, host or run shares one template.
 *
 * A few general rules, never a system's vocabulary:
 * - a token (a run between spaces, brackets, quotes, `=`, `,`, `;`, `|` or a dot leader) that
 *   contains a digit is a value and is masked whole, with a bound before it (`<1 sec`) and a size
 *   or time unit after it. Numbers, hex, UUIDs, IPs with ports, timestamps, durations, sizes,
 *   versions, and paths or URLs with an id in them are all such tokens. So are host-like names with
 *   an id (`SRV-01`, `web-3.example.com`): they name an instance, and the asset is its own
 *   fingerprint field. Words without digits are never masked by this rule, so `failed` and
 *   `succeeded`, `refused` and `reset`, or `/etc/passwd` and `/etc/shadow` stay apart;
 * - a quoted value, and the value of `key=value`, are masked whatever they hold: the quotes and the
 *   key are what the message says, the value is what varies;
 * - a date with a month name (`Sun Jul 3`), and a time zone after a masked time, are masked too;
 * - adjacent masks joined only by spaces or connectors collapse into one, so lists and compound
 *   values of any length give one template; other punctuation is kept as it was.
 *
 * Masking twice changes nothing: a rule only replaces a span by `<*>` (keeping quotes and `=`), and
 * `<*>` holds no digit, ends tokens and blocks quotes, so it gives no rule anything new to match.
 * Every pattern runs in time linear in the message: no quantified part can match the same
 * characters in two ways.
 */

const MASK = '<*>';

const SEP = String.raw`\s=,;()[\]{}<>"'\x60|`;
// A dot inside a token; a run of dots is a leader (`enable.......0`) and ends the token.
const DOT = String.raw`(?<!\.)\.(?!\.)`;
const TOKEN_START = String.raw`(?<=^|[${SEP}]|\.\.)`;
const BOUND = String.raw`(?:[<>]=?)?`;
const BEFORE_DIGIT = String.raw`(?:[^${SEP}.\p{Nd}]|${DOT})*`;
// Trailing sentence punctuation (`from 10.0.0.1:`) is not part of the value.
const AFTER_DIGIT = String.raw`(?:[^${SEP}.]|${DOT})*(?<![.:!?])`;
const UNIT = String.raw`(?:[kmgtpe]i?)?b|bytes?|bits?|%|[nuµμm]?s|(?:nano|micro|milli)?seconds?|secs?|mins?|minutes?|h|hrs?|hours?|days?`;
const UNIT_END = String.raw`(?=[.:!?]*(?:[${SEP}]|$))`;
const MONTH = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const WEEKDAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
// So that a nightly failure keeps its template across a DST change.
const TIME_ZONE = 'UTC|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|WET|WEST|CET|CEST|EET|EEST|BST|IST|MSK|JST|KST|AEST|AEDT';

// A lone space is left alone: rewriting it would copy the string for nothing.
const WHITESPACE = /[^\S ]\s*| \s+/g;
// A quote opens after a non-word and closes before one, so apostrophes (`can't`) open nothing;
// a quoted value holds no quote of any kind, so the quotes themselves are never masked away.
const QUOTED = /(?<![\p{L}\p{N}_>])(["'\x60])[^"'\x60]*\1(?![\p{L}\p{N}_<])/gu;
const KEY_VALUE = /=(?<=[\p{L}\p{N}_]=)[^\s=&,;()[\]{}<>"'\x60]+/gu;
const NAMED_DATE = new RegExp(String.raw`\b(?:(?:${WEEKDAY})[a-z]*,? )?(?:(?:${MONTH})[a-z]*\.? \d{1,2}|\d{1,2} (?:${MONTH})[a-z]*)\b`, 'g');
const TOKEN_WITH_DIGIT = new RegExp(
  String.raw`${TOKEN_START}${BOUND}${BEFORE_DIGIT}\p{Nd}${AFTER_DIGIT}(?: (?:${UNIT})${UNIT_END})?`,
  'giu',
);
const MASK_RUN = new RegExp(String.raw`<\*>(?:[\s,.:\-_/+@#~]*<\*>| (?:${TIME_ZONE})\b)+`, 'g');

export function maskMessage(message: string): string {
  return message
    .replace(WHITESPACE, ' ')
    .trim()
    .replace(QUOTED, `$1${MASK}$1`)
    .replace(KEY_VALUE, `=${MASK}`)
    .replace(NAMED_DATE, MASK)
    .replace(TOKEN_WITH_DIGIT, MASK)
    .replace(MASK_RUN, MASK);
}
