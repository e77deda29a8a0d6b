/**
 * The quality of a corrective action (ISO/IEC 27001:2022 clause 10.2 c/d), and what a reopened
 * nonconformity needs before a new one is accepted.
 *
 * - strength: how a recorded corrective action is classified from its text.
 *   - weak, symptom-only: it restores the service (restarted, re-enabled, re-ran), relies on
 *     people remembering (reminded, retrained), or changes paper (updated a document). The cause
 *     is untouched, so the symptom is expected back.
 *   - strong: it changes what produces the failure: automated, enforced by configuration or
 *     policy-as-code, monitored with an alert, a single point of failure removed, or an owner
 *     with a measure.
 * - root-cause analysis: the five whys and a cause category. Required once an NC has been
 *   reopened: its earlier action was proved ineffective, so a new one must start from the cause.
 *   Its schema and checks are in root-cause-analysis.ts, so that this module needs no zod and the
 *   console can bundle the classifier.
 *
 * Pure: no I/O, no clock, no dependency.
 *
 * Classification rules (rule-based, case-insensitive, English):
 * 1. Each category is a list of word-boundary patterns; a match is a signal.
 * 2. A signal is dropped when a negation precedes it in the same clause, at most three words
 *    before ("no longer relies on restarts", "instead of re-running", "without an alert").
 * 3. A strong signal is dropped when it only describes what was already there ("re-ran *the
 *    automated* job", "the redundant node").
 * 4. A strong signal is absorbed by a symptom treatment right next to it (at most two words
 *    apart, same clause, no "and"/"then" between): "automatic restart", "scheduled a nightly
 *    reboot", "restarted replication". Automating a symptom treatment still treats the symptom.
 * 5. "Owner with a measure" needs both: an owner alone, or a number alone, is not enough.
 * 6. Any strong signal left makes the action strong, whatever weak signals sit beside it: the
 *    restart usually came first to restore service, and the strong step is what removes the
 *    cause. Otherwise the action is weak, including when nothing matched at all: nothing in the
 *    text shows the cause removed, so the conservative class is the honest one.
 *
 * Limits: negation is only seen before a signal and within its clause ("restart not needed" still
 * reads as a restart); a cause fixed in code ("fixed the memory leak") is not recognised as strong
 * unless automation, enforcement, an alert, redundancy or an owner with a measure is named;
 * "scripted" is not automation (a script someone must remember to run is manual); sarcasm,
 * conditionals ("will automate if budget allows") and other languages are not understood.
 */
import type { Nonconformity } from './types.js';

export const ACTION_STRENGTHS = ['weak', 'strong'] as const;
export type ActionStrength = (typeof ACTION_STRENGTHS)[number];

export const WEAK_SIGNALS = ['restart', 're-enable', 're-run', 'silence-alert', 'remind-retrain', 'document', 'manual-fix'] as const;
export const STRONG_SIGNALS = ['automation', 'enforcement', 'monitoring', 'redundancy', 'owner-measure'] as const;
export type WeakSignal = (typeof WEAK_SIGNALS)[number];
export type StrongSignal = (typeof STRONG_SIGNALS)[number];
export type ActionSignal = WeakSignal | StrongSignal;

const SIGNAL_LABELS: Record<ActionSignal, string> = {
  restart: 'restarts or reboots',
  're-enable': 're-enables what was off',
  're-run': 're-runs or retries',
  'silence-alert': 'acknowledges, silences or closes the alert',
  'remind-retrain': 'reminds or retrains people',
  document: 'updates a document',
  'manual-fix': 'a one-off manual fix',
  automation: 'automates it',
  enforcement: 'enforces it by configuration or policy-as-code',
  monitoring: 'monitors it with an alert',
  redundancy: 'removes a single point of failure',
  'owner-measure': 'names an owner with a measure',
};

export interface ActionClassification {
  strength: ActionStrength;
  /** One human sentence: the class, what matched, and what was not counted. */
  reason: string;
  /** The phrases behind the class, in text order: the strong ones when strong, the symptom-only ones when weak. */
  matched: string[];
  /** The signal categories behind the class. */
  categories: ActionSignal[];
}

// ---------------------------------------------------------------------------------------------
// Patterns. WORD and SEP are disjoint character classes, so the bounded gaps below cannot
// backtrack badly on hostile input. SEP stops at clause punctuation, so a gap stays in its clause.

const WORD = String.raw`[\w'-]+`;
const SEP = String.raw`[^\w'.,;:!?\n-]+`;
const OPT_SEP = `(?:${SEP})?`;
const WORDS = new RegExp(WORD, 'g');
/** Up to n words between two parts of a pattern. */
const gap = (n: number): string => String.raw`${SEP}(?:${WORD}${SEP}){0,${n}}`;

interface Pattern {
  re: RegExp;
  /** A preceding "no", "not", "instead of"... cancels it (false where the pattern carries its own negation). */
  negatable: boolean;
  /** "the automated job" describes what already existed; "an automated check" is new. */
  definiteMeansExisting: boolean;
}

interface Rule {
  signal: ActionSignal | 'owner' | 'measure';
  patterns: Pattern[];
}

function p(source: string, options: Partial<Omit<Pattern, 're'>> = {}): Pattern {
  return { re: new RegExp(source, 'gi'), negatable: options.negatable ?? true, definiteMeansExisting: options.definiteMeansExisting ?? false };
}

const PEOPLE = String.raw`(?:teams?|staff|users?|admins?|administrators?|operators?|engineers?|on-?call|people|colleagues|everyone|personnel|employees|owners?|helpdesk|service desk)`;
const DOCS = String.raw`(?:documents?|documentation|docs|procedures?|wiki|runbooks?|playbooks?|sops?|checklists?|knowledge-?base|kb|confluence|readme|instructions|work${SEP}instructions?|guides?|guidelines?|how-?tos?|process descriptions?|polic(?:y|ies)(?!${OPT_SEP}-?as))`;
const ALERTING = String.raw`(?:alerts?|alerting|alarms?|monitors?|monitoring|health-?checks?|heartbeat(?:${SEP}(?:checks?|monitors?))?|dead-?man'?s-?${OPT_SEP}switch|synthetic${SEP}(?:checks?|tests?|probes?|monitoring)|probes?|watchdogs?|notifications?|paging|pages)`;
const TOOLS = String.raw`(?:ansible|puppet|chef|saltstack|terraform|pulumi|cloudformation|bicep|gpos?|group${SEP}polic(?:y|ies)|intune|sccm|jamf|mdm|dsc|opa|rego|gatekeeper|kyverno|sentinel|azure${SEP}polic(?:y|ies)|aws${SEP}config(?:${SEP}rules?)?|conftest|checkov|tfsec|admission${SEP}control\w*)`;
/** A number, with its comparison and percent sign where given: "≥ 99.5%". */
const NUMBER = String.raw`[<>≤≥~]?=?${OPT_SEP}\d+(?:\.\d+)?(?:${OPT_SEP}%)?`;
const SPOF = String.raw`(?:single${SEP}points?${SEP}of${SEP}failure|spofs?)`;

const RULES: Rule[] = [
  {
    signal: 'restart',
    patterns: [p(String.raw`\b(?:re-?start|re-?boot|re-?load|re-?launch|power-?cycl)\w*|\bbounc(?:ed|ing)\b|\bcycled\b`)],
  },
  {
    signal: 're-enable',
    patterns: [
      p(String.raw`\b(?:re-?enabl|re-?activat|re-?mount|re-?connect|re-?attach|unpaus)\w*|\bresumed\b`),
      p(String.raw`\b(?:turned|switched|put|brought)${gap(3)}back${SEP}on(?:line)?\b`),
    ],
  },
  {
    signal: 're-run',
    patterns: [
      p(String.raw`\bre-?r[au]n\w*|\bre-?tr(?:y|ied|ies|ying)\b|\b(?:re-?trigger|re-?execut|re-?submit|re-?queu|re-?process|re-?sync)\w*|\bre-?appl(?:y|ied|ies|ying)\b`),
      p(String.raw`\b(?:ran|run|started|triggered|kicked${SEP}off|executed)${gap(3)}again\b`),
    ],
  },
  {
    signal: 'silence-alert',
    patterns: [
      p(
        String.raw`\b(?:acknowledg\w*|ack(?:ed|'d)?|silenc\w*|mut(?:ed|ing)|suppress\w*|snooz\w*|dismiss\w*|clos(?:ed|ing)|ignor\w*|disabl\w*|resolv\w*)${gap(3)}(?:alerts?|alarms?|alerting|notifications?|pages?|monitors?|monitoring|warnings?|incidents?|tickets?)\b`,
      ),
    ],
  },
  {
    signal: 'remind-retrain',
    patterns: [
      p(String.raw`\bremind\w*|\bre-?train\w*|\btrain(?:ed|ing)\b|\bawareness\b|\bbrief(?:ed|ing)\b|\breiterat\w*|\bre-?educat\w*|\beducat(?:ed|ing)\b|\bcoach(?:ed|ing)\b`),
      p(String.raw`\b(?:told|asked|instructed|informed|emailed|warned|notified|urged)${gap(2)}${PEOPLE}\b`),
    ],
  },
  {
    signal: 'document',
    patterns: [
      p(
        String.raw`\b(?:updat\w*|revis\w*|amend\w*|edit\w*|rewr\w*|wrote|writ\w*|add(?:ed|s|ing)?|creat\w*|extend\w*|improv\w*|clarif\w*)${gap(8)}${DOCS}\b`,
      ),
      p(String.raw`\bdocument(?:ed|ing)\b`),
      p(String.raw`\b${DOCS}${gap(2)}(?:updated|revised|amended|changed|edited|extended|improved|rewritten|written|created)\b`),
    ],
  },
  {
    signal: 'manual-fix',
    patterns: [
      p(
        String.raw`\bmanual(?:ly)?\b|\bby${SEP}hand\b|\bone-?(?:off|time)\b|\bad-?hoc\b|\b(?:clear|purg|flush)(?:ed|ing)\b|\bfreed\b|\bclean(?:ed|ing)?${SEP}up\b|\bdelet(?:ed|ing)\b|\bre-?install\w*|\bre-?creat\w*|\bre-?set(?:ting)?\b|\bre-?deploy\w*|\brolled${SEP}back\b|\bpatched\b|\brenewed\b|\bunlocked\b`,
      ),
    ],
  },
  {
    signal: 'automation',
    patterns: [
      p(String.raw`\bautomat(?:ed|es|e|ing|ion|ically|ic)\b|\bself-?heal\w*|\bauto-?(?:renew|remediat|heal|rotat|updat|patch|restart|retr|scal)\w*`, {
        definiteMeansExisting: true,
      }),
      p(
        String.raw`\bscheduled${gap(2)}(?:jobs?|tasks?|checks?|scans?|tests?|runs?|verifications?|pipelines?|workflows?|reboots?|restarts?|re-?runs?)\b|\b(?:cron(?:-?jobs?|tab)?|systemd${SEP}timers?|task${SEP}scheduler|scheduled${SEP}tasks?)\b`,
        { definiteMeansExisting: true },
      ),
      p(
        String.raw`\b(?:in|into|to|via|through|by)${SEP}(?:(?:the|our|a|every|each)${SEP})?(?:ci|ci/cd|pipelines?|github${SEP}actions|gitlab${SEP}ci|jenkins)\b|\bpre-?commit${SEP}hooks?\b|\bmerge${SEP}(?:gates?|checks?)\b|\bbranch${SEP}protection\b|\b(?:ci|pipeline|build)${SEP}(?:now${SEP})?(?:fails|blocks|rejects|gates)\b`,
      ),
    ],
  },
  {
    signal: 'enforcement',
    patterns: [
      p(String.raw`\benforc(?:ed|es|e|ing|ement)\b`, { definiteMeansExisting: true }),
      p(
        String.raw`\bpolic(?:y|ies)[- ]as[- ]code\b|\bconfig(?:uration)?${SEP}management\b|\b(?:config(?:uration)?|infrastructure)[- ]as[- ]code\b|\biac\b|\bdesired${SEP}state\b|\bgolden${SEP}image\b|\b(?:made|is${SEP}now|now)${SEP}mandatory\b|\bdeny${SEP}by${SEP}default\b|\bdefault-?${OPT_SEP}deny\b`,
      ),
      p(String.raw`\b(?:via|with|using|through|in|into|to|by|from|under)${SEP}(?:(?:the|our|a|an|new)${SEP})?(?:${WORD}\s+)?${TOOLS}\b`),
      p(
        String.raw`\b${TOOLS}${SEP}(?:(?:now|also)${SEP})?(?:enforces|manages|sets|applies|ensures|pins|keeps|denies|blocks|prevents|configures|deploys)\b`,
      ),
    ],
  },
  {
    signal: 'monitoring',
    patterns: [
      p(
        String.raw`\b(?:add(?:ed|s|ing)?|creat(?:ed|es|ing|e)|set(?:ting)?${SEP}up|setup|configur(?:ed|es|ing|e)|implement(?:ed|s|ing)?|introduc(?:ed|es|ing|e)|deploy(?:ed|s|ing)?|install(?:ed|s|ing)?|wr(?:ote|ite|itten)|buil(?:t|d)|defin(?:ed|es|e)|(?<!re-?)enabl(?:ed|es|ing|e)|new|raises|triggers|fires|sends|opens)${gap(3)}${ALERTING}\b`,
      ),
      p(
        String.raw`\b(?:alert(?:s|ing)?|alarms?|pag(?:es|ing)|notif(?:y|ies|ication))${SEP}(?:(?:the|on-?call|team|us|ops|soc|owner)${SEP}){0,2}(?:on|when|if|whenever|before|as${SEP}soon${SEP}as)\b`,
      ),
      p(
        String.raw`\b(?:alerts?|alerting|alarms?|monitoring)${SEP}(?:(?:is|are|was|were|has|have|been|now)${SEP}){0,2}(?:added|created|configured|set${SEP}up|in${SEP}place|enabled|implemented|deployed)\b`,
      ),
      p(String.raw`\bnow${SEP}(?:${WORD}${SEP})?monitored\b|\bmonitored${gap(3)}(?:with|by|via|through)${gap(3)}(?:alerts?|alarms?|alerting|pag\w+)\b`),
    ],
  },
  {
    signal: 'redundancy',
    patterns: [
      p(
        String.raw`\bredundan(?:t|cy|cies)\b|\bfail-?over\b|\breplica(?:s|ted|tion)?\b|\bmirror(?:ed|ing)\b|\bclustered\b|\bload-?${OPT_SEP}balanc\w*|\bhigh-?${OPT_SEP}availability\b|\bha${SEP}(?:pairs?|clusters?|setup|mode)\b|\bactive-?${OPT_SEP}(?:active|passive|standby)\b|\bmulti-?(?:az|region|site|node|path|homed)\b|\b3-2-1\b|\bn\+1\b`,
        { definiteMeansExisting: true },
      ),
      p(
        String.raw`\b(?:second|secondary|additional|standby|spare|extra|another|independent|off-?site)${SEP}(?:${WORD}${SEP})?(?:targets?|sites?|nodes?|servers?|instances?|replicas?|copy|copies|links?|paths?|regions?|zones?|data${OPT_SEP}cent(?:er|re)s?|locations?|repositor(?:y|ies)|repos?|providers?|uplinks?|power${SEP}suppl(?:y|ies)|psus?|disks?|controllers?|dcs?|isps?|circuits?|destinations?|vaults?|buckets?)\b`,
        { definiteMeansExisting: true },
      ),
      p(String.raw`\b(?:remov|eliminat|resolv|address|mitigat|fix)\w*${gap(3)}${SPOF}|\b(?:got|getting)${SEP}rid${SEP}of${gap(3)}${SPOF}`),
      // "no longer a single point of failure" states the removal: the negation is the point.
      p(String.raw`\b(?:no${SEP}longer|no${SEP}more|not|no|never)${gap(2)}${SPOF}|${SPOF}${gap(2)}(?:removed|eliminated|gone|resolved|mitigated)\b`, { negatable: false }),
    ],
  },
  {
    signal: 'owner',
    patterns: [p(String.raw`\bowner(?:ship)?\b|\bowned${SEP}by\b|\bowns\b|\baccountab\w*|\bresponsible${SEP}(?:for|person|party)\b|\braci\b`)],
  },
  {
    signal: 'measure',
    patterns: [
      p(
        String.raw`\bkpis?\b|\bmetrics?\b|\bmeasur(?:e|es|ed|ement|ements|able)\b|\bsl[oia]s?\b|\b(?:success|failure|error|pass)${SEP}rate\b|\bthresholds?\b|\btargets?${OPT_SEP}(?::|=|of|is|at)${OPT_SEP}${NUMBER}|[≤≥]${OPT_SEP}${NUMBER}|[<>]=?${OPT_SEP}\d+(?:\.\d+)?${OPT_SEP}%|(?<![\d.])\d+(?:\.\d+)?${OPT_SEP}%`,
      ),
    ],
  },
];

const NEGATION = new RegExp(
  String.raw`(?:^|[^\w'-])(?:no${SEP}longer|no${SEP}more|not|never|without|instead${SEP}of|rather${SEP}than|no${SEP}need${SEP}(?:to|for)|(?:eliminat|remov)\w*${SEP}the${SEP}need${SEP}(?:to|for)|avoid\w*|stop(?:ped|s|ping)?${SEP}(?:relying${SEP}on|needing|using|doing)|replac\w*|\w+n't|cannot|no)(?:${SEP}${WORD}){0,3}${SEP}$`,
  'i',
);
const DEFINITE = new RegExp(String.raw`(?:^|[^\w'-])(?:the|its|their|our|this|that|these|those|existing|current|same|old)${SEP}$`, 'i');
/** Where a clause ends: a negation never reaches across it ("and"/"or" do not end one: "no restarts or re-runs"). */
const CLAUSE_BREAK = /[,;:\n]|[.!?](?=\s|$)|\b(?:but|then|also|plus|so|while|however|yet)\b/gi;
/** Two signals joined by "and"/"or" are two steps, never one ("restarted and automated"). */
const STEP_BREAK = /[,;:\n]|[.!?](?=\s|$)|\b(?:and|or|but|then|also|plus|so|while|however|yet)\b/i;
const SYMPTOM_TREATMENTS: readonly ActionSignal[] = ['restart', 're-enable', 're-run', 'silence-alert'];

interface Hit {
  signal: Rule['signal'];
  start: number;
  end: number;
  phrase: string;
  /** Why it does not count, when it does not. */
  dropped: 'negated' | 'existing' | 'absorbed' | null;
}

/** Dashes and quotes typed by word processors, folded so patterns see one spelling (length-preserving). */
function fold(text: string): string {
  return text.replace(/[\u2010-\u2015\u2212]/g, '-').replace(/[\u2018\u2019\u02bc]/g, "'");
}

/** The text between the last clause break before `at` and `at`. */
function clausePrefix(text: string, at: number): string {
  const from = Math.max(0, at - 120);
  // A window cut mid-word would show a fragment ("casi|no") as a word of its own.
  const before = from === 0 ? text.slice(0, at) : text.slice(from, at).replace(/^[\w'-]+/, '');
  let cut = 0;
  for (const match of before.matchAll(CLAUSE_BREAK)) cut = match.index + match[0].length;
  return before.slice(cut);
}

/** Words between two spans, or Infinity when a clause break or a conjunction separates them. */
function wordsBetween(text: string, from: number, to: number): number {
  if (to <= from) return 0;
  const between = text.slice(from, to);
  if (STEP_BREAK.test(between)) return Number.POSITIVE_INFINITY;
  return between.match(WORDS)?.length ?? 0;
}

function findHits(text: string): Hit[] {
  const hits: Hit[] = [];
  for (const rule of RULES) {
    const found: { start: number; end: number; pattern: Pattern }[] = [];
    for (const pattern of rule.patterns) {
      for (const match of text.matchAll(pattern.re)) {
        if (match[0] !== '') found.push({ start: match.index, end: match.index + match[0].length, pattern });
      }
    }
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    let covered = -1;
    for (const { start, end, pattern } of found) {
      // Overlapping matches of one signal say one thing: the earliest (and longest) speaks.
      if (start < covered) continue;
      covered = end;
      const prefix = clausePrefix(text, start);
      const dropped = pattern.negatable && NEGATION.test(prefix) ? 'negated' : pattern.definiteMeansExisting && DEFINITE.test(prefix) ? 'existing' : null;
      hits.push({ signal: rule.signal, start, end, phrase: text.slice(start, end), dropped });
    }
  }
  hits.sort((a, b) => a.start - b.start || a.end - b.end);
  absorb(text, hits);
  return hits;
}

/** Index of the first hit that starts at or after `at` (hits sorted by start). */
function firstFrom(hits: readonly Hit[], at: number): number {
  let low = 0;
  let high = hits.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((hits[middle]?.start ?? Infinity) < at) low = middle + 1;
    else high = middle;
  }
  return low;
}

function isStrong(signal: Hit['signal']): signal is StrongSignal {
  return (STRONG_SIGNALS as readonly string[]).includes(signal);
}

/** Rule 4: a strong signal next to a symptom treatment is part of that treatment. */
function absorb(text: string, hits: Hit[]): void {
  const treatments = hits.filter((hit) => hit.dropped === null && SYMPTOM_TREATMENTS.includes(hit.signal as ActionSignal));
  for (const hit of hits) {
    if (hit.dropped !== null || !isStrong(hit.signal)) continue;
    // Only the treatments right before and right after can be two words away.
    const at = firstFrom(treatments, hit.start);
    const nearby = treatments.slice(Math.max(0, at - 2), at + 2);
    const absorbed = nearby.some((treatment) => {
      // "restarted replication", "re-ran the automated job", "restarts automatically"
      if (treatment.start <= hit.start && wordsBetween(text, treatment.end, hit.start) <= 2) return true;
      // "automatic restart", "scheduled a nightly reboot": automating the treatment
      return hit.signal === 'automation' && hit.start <= treatment.start && wordsBetween(text, hit.end, treatment.start) <= 2;
    });
    if (absorbed) hit.dropped = 'absorbed';
  }
}

const quote = (phrases: string[]): string => [...new Set(phrases)].map((phrase) => `"${phrase}"`).join(', ');

function describeSignals(signals: Map<ActionSignal, string[]>): string {
  return [...signals].map(([signal, phrases]) => `${SIGNAL_LABELS[signal]} (${quote(phrases)})`).join(', ');
}

const DROPPED_WHY = { negated: 'negated', existing: 'describes what was already there', absorbed: 'part of the symptom treatment' } as const;

function notCounted(hits: Hit[], kind: 'strong' | 'any'): string {
  const dropped = hits.filter((hit) => hit.dropped !== null && (kind === 'any' || isStrong(hit.signal) || hit.signal === 'owner' || hit.signal === 'measure'));
  if (dropped.length === 0) return '';
  return `; not counted: ${dropped.map((hit) => `"${hit.phrase}" (${DROPPED_WHY[hit.dropped ?? 'negated']})`).join(', ')}`;
}

/**
 * Classifies a corrective action from its text. Total: any string gives a class and a reason;
 * empty text is weak (the API refuses empty actions before this is reached).
 */
export function classifyAction(text: string): ActionClassification {
  const folded = fold(text);
  if (folded.trim() === '') {
    return { strength: 'weak', reason: 'weak: the corrective action is empty, so nothing shows that the cause was removed', matched: [], categories: [] };
  }
  const hits = findHits(folded);
  for (const hit of hits) hit.phrase = text.slice(hit.start, hit.end);
  const live = hits.filter((hit) => hit.dropped === null);
  const phraseOf = (hit: Hit): string => hit.phrase;

  const strong = new Map<ActionSignal, string[]>();
  const weak = new Map<ActionSignal, string[]>();
  const matched: Hit[] = [];
  const owners = live.filter((hit) => hit.signal === 'owner');
  const measures = live.filter((hit) => hit.signal === 'measure');
  for (const hit of live) {
    if (hit.signal === 'owner' || hit.signal === 'measure') {
      if (owners.length === 0 || measures.length === 0) continue;
      strong.set('owner-measure', [...(strong.get('owner-measure') ?? []), phraseOf(hit)]);
      matched.push(hit);
    } else {
      const into = isStrong(hit.signal) ? strong : weak;
      into.set(hit.signal, [...(into.get(hit.signal) ?? []), phraseOf(hit)]);
      if (isStrong(hit.signal)) matched.push(hit);
    }
  }
  const ownerOnly = owners.length > 0 && measures.length === 0 ? `; an owner is named (${quote(owners.map(phraseOf))}) but no measure` : '';

  if (strong.size > 0) {
    const alongside = weak.size > 0 ? `; the symptom-only steps beside it (${describeSignals(weak)}) do not weaken it` : '';
    return {
      strength: 'strong',
      reason: `strong: ${describeSignals(strong)}${alongside}${notCounted(hits, 'strong')}`,
      matched: matched.map(phraseOf),
      categories: [...strong.keys()],
    };
  }
  const weakHits = live.filter((hit) => weak.has(hit.signal as ActionSignal));
  const absorbed = hits.filter((hit) => hit.dropped === 'absorbed');
  const noted = `${ownerOnly}${notCounted(hits, weak.size > 0 ? 'strong' : 'any')}`;
  if (weak.size > 0) {
    const automated = absorbed.some((hit) => hit.signal === 'automation') ? '; automating a symptom treatment still treats only the symptom' : '';
    return {
      strength: 'weak',
      reason: `symptom-only: ${describeSignals(weak)}; nothing removes the cause${automated}${noted}`,
      matched: weakHits.map(phraseOf),
      categories: [...weak.keys()],
    };
  }
  return {
    strength: 'weak',
    reason: `weak: nothing shows that the cause was removed (no automation, enforcement by configuration or policy-as-code, alert, removed single point of failure, or owner with a measure)${noted}`,
    matched: [],
    categories: [],
  };
}

/**
 * The sentence a reopen notification carries when the action that proved ineffective was weak;
 * null when it was strong or never classified (a strong action that failed needs no "told you so").
 */
export function reopenNote(strength: ActionStrength | null, reason?: string | null): string | null {
  if (strength !== 'weak') return null;
  const why = reason ? ` (${reason})` : '';
  return `the corrective action was symptom-only (weak)${why}: it treated the symptom, not its cause, so its return was to be expected; a root-cause analysis (the five whys and a cause category) is required before a new corrective action is accepted`;
}

// ---------------------------------------------------------------------------------------------
// Root-cause analysis

export const CAUSE_CATEGORY_GROUPS = {
  technical: ['design-flaw', 'process-gap', 'tool-limitation'],
  organisational: ['governance-ownership', 'culture'],
} as const;
export type CauseGroup = keyof typeof CAUSE_CATEGORY_GROUPS;
export const CAUSE_CATEGORIES = [...CAUSE_CATEGORY_GROUPS.technical, ...CAUSE_CATEGORY_GROUPS.organisational] as const;
export type CauseCategory = (typeof CAUSE_CATEGORIES)[number];

/** Whether a cause lies in the technology or in the organisation around it (the latter is often systemic). */
export function causeGroup(category: CauseCategory): CauseGroup {
  return (CAUSE_CATEGORY_GROUPS.technical as readonly string[]).includes(category) ? 'technical' : 'organisational';
}

/** The method's name is its rule: five answers, each asking why of the one before. */
export const WHYS_REQUIRED = 5;
/** A chain may go deeper than five; beyond this it has stopped being an analysis. */
export const WHYS_MAX = 10;

/** A reopened NC proved its last corrective action ineffective: the next one must start from the cause. */
export function requiresRootCauseAnalysis(nc: Pick<Nonconformity, 'state' | 'reopenCount'>): boolean {
  return nc.reopenCount > 0 || nc.state === 'reopened';
}
