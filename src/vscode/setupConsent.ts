import * as vscode from 'vscode';
import { redactCredentials } from '../core/logger';
import { proposalKey, type SetupConsent, type SetupProposal } from '../core/setup/setupProposal';

/** Where the allowed proposals are kept (the window's global state: every workspace, this machine). */
const ALLOWED_KEY = 'gitiso.allowedSetups';
/** The most allowed proposals kept; the oldest go first. */
const MAX_ALLOWED = 200;

/**
 * The window's consent to what a repository's `.gitiso.json` asks: a modal
 * that names the install and the files, remembered per repository URL and
 * setup file blob (a changed `.gitiso.json` asks again). Only an allow is
 * remembered; a refusal asks again next time.
 */
export function setupConsentPrompt(state: vscode.Memento): SetupConsent {
  return async (proposal) => {
    const key = proposalKey(proposal);
    const allowed = state.get<string[]>(ALLOWED_KEY, []);
    if (allowed.includes(key)) {
      return true;
    }
    const choice = await vscode.window.showWarningMessage(`${redactCredentials(proposal.repoUrl)} asks to set up its agents`, { modal: true, detail: describeAsks(proposal) }, 'Allow');
    if (choice !== 'Allow') {
      return false;
    }
    await state.update(ALLOWED_KEY, [...allowed.filter((other) => other !== key), key].slice(-MAX_ALLOWED));
    return true;
  };
}

function describeAsks(proposal: SetupProposal): string {
  const lines = ['Its .gitiso.json asks gitiso to:'];
  if (proposal.install) {
    lines.push(`• run its install command in the snapshot build, with the network: ${proposal.install}`);
  }
  if (proposal.copy.length > 0) {
    lines.push(`• copy these files from your folder into every agent: ${proposal.copy.join(', ')}`);
  }
  lines.push('', 'Agents run the repository\'s code; allow this only if you trust what it asks. You are asked again when .gitiso.json changes.');
  return lines.join('\n');
}
