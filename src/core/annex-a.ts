/**
 * The Annex A catalogue (config/annex-a.yaml) and what it does to a control id: a 2013 id becomes
 * the 2022 control it corresponds to, a 2022 id stays, and an Annex A-shaped id in neither list is
 * "unknown": kept as the source gave it and marked, never refused.
 */
import { globMatcher } from './match.js';
import { ANNEX_A_2022_ID, ANNEX_A_ID } from './types.js';

/** An ISO/IEC 27001:2013 Annex A control id, such as A.12.3.1. */
export const ANNEX_A_2013_ID = /^A\.\d{1,2}\.\d{1,2}\.\d{1,2}$/;

/**
 * The Annex A ids in a control field written other than as one bare id: Prowler puts the edition
 * first ("2013 A.12.3.1"), Wazuh's SCA events join several with commas ("A.9.2.3,A.9.4.2"). Empty
 * when the text is anything else (an objective such as "2013 A.12.4", another standard's id).
 */
export function controlIdsIn(text: string): string[] {
  const edition = /^(2013|2022)\s+(.*)$/s.exec(text.trim());
  const shape = edition === null ? ANNEX_A_ID : edition[1] === '2013' ? ANNEX_A_2013_ID : ANNEX_A_2022_ID;
  const ids = (edition?.[2] ?? text)
    .split(/[\s,;]+/)
    .filter((part) => part !== '');
  return ids.length > 0 && ids.every((id) => shape.test(id)) ? ids : [];
}

export interface AnnexA {
  /** The 2022 controls: id to short title. */
  controls: ReadonlyMap<string, string>;
  /** Each 2013 control to its 2022 control(s), in the standard's order. */
  from2013: ReadonlyMap<string, readonly string[]>;
}

/** What an id means under the catalogue. */
export interface ControlReading {
  /** The 2022 id, or the id as given when it is unknown. */
  control: string;
  /** The id as given, when it differed from `control` (a 2013 id). */
  asReported?: string;
  /** In neither the 2022 list nor the 2013 table. */
  unknown?: true;
}

export function readControl(catalogue: AnnexA, id: string): ControlReading {
  if (catalogue.controls.has(id)) return { control: id };
  // A 2013 control that became several 2022 ones is filed under the first, as the table lists them.
  const first = catalogue.from2013.get(id)?.[0];
  if (first !== undefined) return { control: first, asReported: id };
  return { control: id, unknown: true };
}

/** The fields an alert carries about its control. */
export interface ControlFields {
  control?: string | undefined;
  controlAsReported?: string | undefined;
  controlUnknown?: true | undefined;
}

/**
 * The alert with its control read through the catalogue. An alert without a control, or with a
 * 2022 id, is returned as it is: reading an alert twice keeps what the first reading found.
 */
export function normaliseControl<T extends ControlFields>(catalogue: AnnexA, alert: T): T {
  if (alert.control === undefined || catalogue.controls.has(alert.control)) return alert;
  const { control, asReported, unknown } = readControl(catalogue, alert.control);
  return { ...alert, control, ...(asReported === undefined ? {} : { controlAsReported: asReported }), ...(unknown ? { controlUnknown: true } : {}) };
}

/**
 * A `match.control` pattern (an id, or one with `*`) as it must be compared with the 2022 ids that
 * symptoms and NCs carry: a whole 2013 id becomes its 2022 control. A 2013 prefix (A.12.*) cannot
 * be read so; controlPatternMatchesNone tells it.
 */
export function controlPattern(catalogue: AnnexA, pattern: string): string {
  return pattern.includes('*') ? pattern : readControl(catalogue, pattern).control;
}

/** Whether a pattern, read as controlPattern reads it, matches none of the 2022 controls. */
export function controlPatternMatchesNone(catalogue: AnnexA, pattern: string): boolean {
  const matches = globMatcher(controlPattern(catalogue, pattern));
  return ![...catalogue.controls.keys()].some(matches);
}
