import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** test/fixtures/fakeCodingAgent.py: a coding agent in miniature (its prompt, a commit, "ask" waits for a line of input). */
export const FAKE_AGENT_SOURCE = readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'fakeCodingAgent.py'), 'utf8');

/**
 * The fake coding agent as the user's gitiso.codingAgents holds it: its source
 * goes into the agent as an argument (`python3 -c`), so no image needs it.
 */
export function fakeAgentPreset(name = 'fake'): { name: string; command: string[]; task: string[] } {
  return { name, command: ['python3', '-c', FAKE_AGENT_SOURCE], task: ['python3', '-c', FAKE_AGENT_SOURCE, '{prompt}'] };
}
