/**
 * Informer objects through their zod schema (the trust boundary for custom resources read
 * from the API server).
 * @packageDocumentation
 */

/** The objects that parse, with defaults applied. Admission refuses invalid objects; one that slips through (an older CRD) is skipped, not fatal. */
export function parseList<T>(objs: readonly unknown[], schema: { safeParse(o: unknown): { success: true; data: T } | { success: false } }): T[] {
  const out: T[] = [];
  for (const o of objs) {
    const r = schema.safeParse(o);
    if (r.success) out.push(r.data);
  }
  return out;
}
