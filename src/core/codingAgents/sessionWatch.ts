import { Emitter, type Disposable, type Event } from '../base/event';
import { describeCause } from '../errors';
import { silentLogger, type Logger } from '../logger';
import type { AgentSessions } from './agentSessions';
import type { SessionActivity, SessionState } from './sessionState';

/** How often the sessions are looked at while someone can see them. */
export const SESSION_WATCH_INTERVAL_MS = 3_000;

/** A session that changed what it is doing: the notification's cue (`from` absent when first seen). */
export interface SessionTransition {
  readonly agentId: string;
  readonly from?: SessionActivity;
  readonly state: SessionState;
}

export interface SessionWatchDeps {
  readonly sessions: Pick<AgentSessions, 'state'>;
  /** The agents to look at: the running ones. */
  readonly runningAgents: () => readonly string[];
  readonly intervalMs?: number;
  readonly log?: Logger;
}

/**
 * Keeps what each running agent's coding agent is doing, with one short probe
 * per agent per round, only while it is active (the window turns it on while
 * the tree can be seen, as it does the stats).
 */
export class SessionWatch implements Disposable {
  private readonly states = new Map<string, SessionState>();
  private readonly changed = new Emitter<readonly string[]>();
  private readonly transitioned = new Emitter<SessionTransition>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;

  /** The agents whose session state changed (appeared, moved, or went). */
  readonly onDidChange: Event<readonly string[]> = this.changed.event;
  /** A session that started, finished or began to wait. */
  readonly onDidTransition: Event<SessionTransition> = this.transitioned.event;

  constructor(private readonly deps: SessionWatchDeps) {}

  stateOf(agentId: string): SessionState | undefined {
    return this.states.get(agentId);
  }

  setActive(active: boolean): void {
    if (active && !this.timer) {
      void this.refresh();
      this.timer = setInterval(() => void this.refresh(), this.deps.intervalMs ?? SESSION_WATCH_INTERVAL_MS);
      this.timer.unref();
    } else if (!active && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** One round now (a task just started, a terminal closed); a round already under way is shared. */
  refresh(): Promise<void> {
    this.round ??= this.lookAll().finally(() => (this.round = undefined));
    return this.round;
  }

  private async lookAll(): Promise<void> {
    const ids = this.deps.runningAgents();
    const changed: string[] = [...this.states.keys()].filter((id) => !ids.includes(id));
    changed.forEach((id) => this.states.delete(id));
    await Promise.all(
      ids.map(async (id) => {
        let state: SessionState | undefined;
        try {
          state = await this.deps.sessions.state(id);
        } catch (error) {
          // An agent that stops between the list and the probe: the next round knows.
          (this.deps.log ?? silentLogger).debug(`session of '${id}': ${describeCause(error)}`);
          return;
        }
        const before = this.states.get(id);
        if (!state) {
          if (before) {
            this.states.delete(id);
            changed.push(id);
          }
          return;
        }
        this.states.set(id, state);
        if (before?.activity !== state.activity || before.task?.startedAt !== state.task?.startedAt || before.exitCode !== state.exitCode) {
          changed.push(id);
          this.transitioned.fire({ agentId: id, state, ...(before ? { from: before.activity } : {}) });
        }
      }),
    );
    if (changed.length > 0) {
      this.changed.fire(changed);
    }
  }

  dispose(): void {
    this.setActive(false);
    this.changed.dispose();
    this.transitioned.dispose();
  }
}
