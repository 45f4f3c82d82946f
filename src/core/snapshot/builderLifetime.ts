import { LABEL } from '../agent';
import { isAbandoned, OWNER_LABEL, parseOwner, type Liveness } from '../ownership';

/** When a builder's time is up: it ends itself then, and anyone may remove it. */
export const BUILDER_DEADLINE_LABEL = 'gitiso.builder-deadline';

/** What a build may take besides the install: streaming the bundle in, the checkout, the commit of the image. */
export const BUILD_ALLOWANCE_MS = 15 * 60_000;

/**
 * The builder's command: it reads its stdin, which its creator holds open
 * (attached, with StdinOnce), so it ends when the creator ends, even by
 * kill -9; and it ends at its deadline in any case. With an init and
 * AutoRemove, its ending stops the install and removes the container.
 */
export function watchdogCommand(limitMs: number): string[] {
  const seconds = String(Math.max(1, Math.ceil(limitMs / 1000)));
  return ['sh', '-c', '(sleep "$1"; kill "$$") & exec cat >/dev/null', 'gitiso-builder', seconds];
}

/** The labels that say until when a builder may run. */
export function deadlineLabels(now: number, limitMs: number): Record<string, string> {
  return { [BUILDER_DEADLINE_LABEL]: new Date(now + limitMs).toISOString() };
}

/**
 * Whether a builder found on the engine is abandoned (taken over or removed,
 * never waited for): its creator on this host has ended, or its deadline has
 * passed. One made by a version without a deadline counts from its creation.
 */
export function isBuilderAbandoned(labels: Record<string, string> | undefined, world: Liveness): boolean {
  const created = Date.parse(labels?.[LABEL.created] ?? '') || 0;
  const deadline = Date.parse(labels?.[BUILDER_DEADLINE_LABEL] ?? '');
  const staleAfterMs = Number.isNaN(deadline) ? BUILD_ALLOWANCE_MS : deadline - created;
  return isAbandoned({ owner: parseOwner(labels?.[OWNER_LABEL]), since: created, staleAfterMs }, world);
}
