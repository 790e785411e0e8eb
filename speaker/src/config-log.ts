/**
 * Logs configuration verdicts once per change: the controller writes them into the objects'
 * `Valid` conditions; each speaker says in its own log what it runs instead.
 * @packageDocumentation
 */
import type { Logger } from '@herald/shared/core';
import type { ObjectVerdict } from '@herald/shared/config';

/** Warns for each invalid object whose verdict is new (by kind, name, generation and message); `seen` carries state between calls. */
export function logVerdicts(log: Logger, verdicts: readonly ObjectVerdict[], seen: Map<string, string>): void {
  const now = new Set<string>();
  for (const v of verdicts) {
    const key = `${v.kind}/${v.name}`;
    now.add(key);
    const text = `${v.valid}/${v.generation ?? ''}/${v.message}`;
    if (seen.get(key) === text) continue;
    seen.set(key, text);
    if (!v.valid) log.warn({ event: 'invalidConfig', kind: v.kind, name: v.name, reason: v.reason, kept: v.kept }, `${v.kind} ${v.name} is invalid: ${v.message}`);
  }
  for (const k of seen.keys()) if (!now.has(k)) seen.delete(k);
}
