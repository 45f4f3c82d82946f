import { createHash } from 'node:crypto';
import { redactCredentials } from '../logger';
import type { SetupSettings } from './repoSetup';

/**
 * What a repository's `.gitiso.json` asks of the host, which only the user may
 * allow: an install to run (in the snapshot build, with the network) and files
 * to copy from the user's folder into every agent. Its `dev` and `port` run
 * inside the agent and need no consent.
 */
export interface SetupProposal {
  readonly repoUrl: string;
  /** The blob id of `.gitiso.json` at the commit: a changed file is a new proposal. */
  readonly fileId: string;
  readonly install?: string;
  /** As the file writes them; the unsafe ones are skipped when copying. */
  readonly copy: readonly string[];
}

/** The host's answer to a proposal: true lets the create go ahead with it. */
export type SetupConsent = (proposal: SetupProposal) => Promise<boolean>;

/** Without a way to ask, nothing a repository proposes is allowed. */
export const refuseSetup: SetupConsent = () => Promise.resolve(false);

/** Allows every proposal (the CLI's --trust-setup, tests). */
export const trustSetup: SetupConsent = () => Promise.resolve(true);

/**
 * What the setup file asks that needs consent; undefined when it asks nothing.
 * Files to copy only count when there is a folder to copy them from.
 */
export function proposalOf(file: SetupSettings, at: { readonly repoUrl: string; readonly fileId: string; readonly copyFrom?: string }): SetupProposal | undefined {
  const install = file.install?.trim() || undefined;
  const copy = at.copyFrom ? (file.copy ?? []) : [];
  if (!install && copy.length === 0) {
    return undefined;
  }
  return { repoUrl: at.repoUrl, fileId: at.fileId, install, copy };
}

/** Names a proposal by its repository, its file and what it shows: what a remembered consent is kept under. */
export function proposalKey(proposal: SetupProposal): string {
  const text = JSON.stringify([proposal.repoUrl, proposal.fileId, proposal.install ?? '', proposal.copy]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** The asks in words, for a question or an error: "run 'npm ci' and copy .env, notes.txt from your folder". */
export function describeProposal(proposal: SetupProposal): string {
  const asks = [
    ...(proposal.install ? [`run '${redactCredentials(proposal.install)}'`] : []),
    ...(proposal.copy.length > 0 ? [`copy ${proposal.copy.map((path) => JSON.stringify(path)).join(', ')} from your folder into each agent`] : []),
  ];
  return asks.join(' and ');
}

/** Asks once per proposal however many agents of a burst need the answer (concurrent askers share the question). */
export function askOnce(consent: SetupConsent): SetupConsent {
  const answers = new Map<string, Promise<boolean>>();
  return (proposal) => {
    const key = proposalKey(proposal);
    let answer = answers.get(key);
    if (!answer) {
      answer = consent(proposal);
      answers.set(key, answer);
    }
    return answer;
  };
}

/** Allows only the proposal already allowed (for builds no one waits on: they never ask). */
export function allowedAlready(allowed: SetupProposal | undefined): SetupConsent {
  const key = allowed && proposalKey(allowed);
  return (proposal) => Promise.resolve(key !== undefined && proposalKey(proposal) === key);
}
