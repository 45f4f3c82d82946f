import { Emitter, type Disposable, type Event } from '../base/event';
import { describeCause } from '../errors';
import { silentLogger, type Logger } from '../logger';
import type { AgentSessions } from './agentSessions';
import type { SessionActivity, SessionState } from './sessionState';

/** How often the sessions are looked at while someone can see them. */
export const SESSION_WATCH_INTERVAL_MS = 3_000;
/**
 * An agent whose last probe found no session, or a finished one, is probed
 * only every this many rounds of the timer: nothing there moves until a task
 * starts, and a task started here calls refresh(), which probes every agent.
 * One started elsewhere (the CLI, another window) shows within these rounds.
 */
export const IDLE_PROBE_EVERY_ROUNDS = 5;

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
  /** Whether the round under way probes every agent (refresh()) or skips idle ones (the timer). */
  private roundProbesAll = false;
  private rounds = 0;
  /** The round in which each agent found idle (no session, or a finished one) was last probed. */
  private readonly idleSince = new Map<string, number>();

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
      this.timer = setInterval(() => void this.look(false), this.deps.intervalMs ?? SESSION_WATCH_INTERVAL_MS);
      this.timer.unref();
    } else if (!active && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** One round now that probes every agent (a task just started, a terminal closed); a round already under way is shared. */
  refresh(): Promise<void> {
    return this.look(true);
  }

  /** A round of every agent (`all`), or of those not idle plus the idle ones whose turn it is; a round under way that covers it is shared. */
  private look(all: boolean): Promise<void> {
    if (this.round && (this.roundProbesAll || !all)) {
      return this.round;
    }
    // A round that skips idle agents is under way: a round of all follows it.
    const previous = this.round?.catch(() => undefined) ?? Promise.resolve();
    const round = previous.then(() => this.lookAll(all)).finally(() => {
      if (this.round === round) {
        this.round = undefined;
      }
    });
    this.round = round;
    this.roundProbesAll = all;
    return round;
  }

  private async lookAll(all: boolean): Promise<void> {
    const ids = this.deps.runningAgents();
    const round = ++this.rounds;
    const changed: string[] = [...this.states.keys()].filter((id) => !ids.includes(id));
    changed.forEach((id) => this.states.delete(id));
    for (const id of [...this.idleSince.keys()].filter((known) => !ids.includes(known))) {
      this.idleSince.delete(id);
    }
    const due = (id: string): boolean => {
      const since = this.idleSince.get(id);
      return all || since === undefined || round - since >= IDLE_PROBE_EVERY_ROUNDS;
    };
    await Promise.all(
      ids.filter(due).map(async (id) => {
        let state: SessionState | undefined;
        try {
          state = await this.deps.sessions.state(id);
        } catch (error) {
          // An agent that stops between the list and the probe: the next round knows.
          (this.deps.log ?? silentLogger).debug(`session of '${id}': ${describeCause(error)}`);
          return;
        }
        const before = this.states.get(id);
        if (!state || state.activity === 'finished') {
          this.idleSince.set(id, round);
        } else {
          this.idleSince.delete(id);
        }
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
