/**
 * What Microsoft's security APIs (Defender for Endpoint, Graph security) have in common: answers
 * that are one item, an array, or a page (`{ value: [...] }`), and fields that are null or empty
 * when Microsoft has not filled them.
 */
export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Null and '' read as absent, so that a fallback applies. */
export function present(value: unknown): unknown {
  return value === null || value === '' ? undefined : value;
}

/** A reshape for such answers: a page becomes its alerts (named [n]), one alert stays the body; each shaped by `item`. */
export function eachAlert(item: (alert: unknown) => unknown): (document: unknown) => unknown {
  return (document) => {
    if (isRecord(document) && Array.isArray(document.value)) return document.value.map(item);
    return Array.isArray(document) ? document.map(item) : item(document);
  };
}
