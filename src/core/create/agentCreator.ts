import type { Agent, CreateStrategy } from '../agent';
import { noTimings, timeStep, type StepTimings } from '../base/stepTimings';
import type { AgentService } from '../agentService';
import { throwIfAborted } from '../base/abort';
import { InFlight } from '../base/inFlight';
import type { Doctor } from '../doctor/doctor';
import type { Engine } from '../docker/engine';
import { AgentExistsError, asError } from '../errors';
import { readHostIdentity, type GitIdentity } from '../git/hostGit';
import type { Admission } from '../limits/admission';
import { redactCredentials, type Logger } from '../logger';
import { askOnce, refuseSetup, type SetupConsent } from '../setup/setupProposal';
import { containerNameFor, sessionBranchFor, validateAgentId, validateBranchName, validateRepoUrl } from '../names';
import type { AgentNetwork } from '../network/agentNetwork';
import type { AgentStarter } from './agentStarter';
import { DEFAULT_CREATE_CONCURRENCY, type CreateHooks, type CreateManyHooks, type CreateOutcome, type CreateRequest, type ReportProgress } from './createRequest';

export interface AgentCreatorOptions {
  readonly engine: Pick<Engine, 'ping' | 'inspectContainer' | 'ensureImage'>;
  readonly agents: Pick<AgentService, 'get'>;
  readonly admission: Pick<Admission, 'limitsFor' | 'admit'>;
  /** The network agents join: a setting that would undo their isolation fails a create before anything is made. */
  readonly network: Pick<AgentNetwork, 'resolve'>;
  /** Removes what crashed creates of the same repository left, before this one (their builders would hold it up). */
  readonly doctor?: Pick<Doctor, 'cleanObvious'>;
  /** One starter per strategy. */
  readonly starters: Readonly<Record<CreateStrategy, AgentStarter>>;
  readonly log: Logger;
  /** Told how long the checks and the doctor's sweep before a create took. */
  readonly timings?: StepTimings;
  /** Image used when a request names none. */
  readonly defaultImage: string;
  /** The strategy used when a request names none. */
  readonly strategy: CreateStrategy;
  /** Where to read the host's git identity from (a workspace folder); the user's global config when absent. */
  readonly identityFrom?: string;
  /** Overrides the host's git identity (tests, scripts). */
  readonly identity?: GitIdentity;
  /** Decides what a repository's `.gitiso.json` may ask when a call brings no policy of its own; refused when absent. */
  readonly setupConsent?: SetupConsent;
}

/**
 * Creates agents: checks the request, admits it against the engine's memory,
 * makes sure the image is there, then hands it to the starter of its
 * strategy. `createMany` is the one batch loop (the CLI, the tree and the
 * VS Code command all use it).
 */
export class AgentCreator {
  /** Ids this process is creating now: a second create of one fails at once. */
  private readonly creating = new Set<string>();
  /** The creates of a burst check the engine together: one ping answers those that ask at once. */
  private readonly pings = new InFlight<void>();

  private readonly timings: StepTimings;

  constructor(private readonly options: AgentCreatorOptions) {
    this.timings = options.timings ?? noTimings;
  }

  /**
   * Creates several agents, at most `concurrency` at a time. The burst is
   * admitted (or refused) as a whole before anything is made; one snapshot
   * build and one pool fetch serve it; a failure of one agent neither stops
   * nor undoes the others and is reported by its id.
   */
  async createMany(requests: readonly CreateRequest[], hooks: CreateManyHooks = {}): Promise<CreateOutcome[]> {
    // A refused network fails the burst as a whole, like a refused admission.
    await this.options.network.resolve();
    await this.options.admission.admit(requests, hooks.force);
    await this.cleanBefore(requests);
    // One question per repository's proposal for the whole burst.
    const admitted = { ...hooks, force: true, consent: askOnce(this.consentOf(hooks)) };
    const outcomes: CreateOutcome[] = new Array(requests.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const index = next++;
        const request = requests[index] as CreateRequest;
        try {
          // Once cancelled, the agents not yet begun are not begun.
          throwIfAborted(hooks.signal, `creation of agent '${request.id}'`);
          outcomes[index] = { id: request.id, agent: await this.createOne(request, admitted) };
        } catch (error) {
          outcomes[index] = { id: request.id, error: asError(error) };
        }
        hooks.onSettled?.(outcomes[index]);
      }
    };
    const concurrency = Math.max(1, Math.min(hooks.concurrency ?? DEFAULT_CREATE_CONCURRENCY, requests.length));
    await Promise.all(Array.from({ length: concurrency }, worker));
    return outcomes;
  }

  async create(request: CreateRequest, hooks: CreateHooks = {}): Promise<Agent> {
    await timeStep(this.timings, 'leftovers sweep', () => this.cleanBefore([request]));
    return this.createOne(request, hooks);
  }

  /** Removes what crashed creates of these repositories left (an abandoned builder, a half-made agent), once per burst. */
  private async cleanBefore(requests: readonly CreateRequest[]): Promise<void> {
    const { doctor } = this.options;
    if (!doctor) {
      return;
    }
    // Only well-formed URLs (a bad one fails its own create, with the reason).
    const repoUrls = new Set(requests.flatMap((request) => {
      try {
        return [validateRepoUrl(request.repoUrl)];
      } catch {
        return [];
      }
    }));
    await Promise.all([...repoUrls].map((repoUrl) => doctor.cleanObvious({ repoUrl })));
  }

  private async createOne(request: CreateRequest, hooks: CreateHooks): Promise<Agent> {
    const { engine, admission, log } = this.options;
    const id = validateAgentId(request.id);
    const repoUrl = validateRepoUrl(request.repoUrl);
    const baseBranch = request.baseBranch ? validateBranchName(request.baseBranch) : '';
    const image = request.image || this.options.defaultImage;
    const report: ReportProgress = (phase, message, percent) => hooks.onProgress?.({ agentId: id, phase, message, percent });

    if (this.creating.has(id)) {
      throw new AgentExistsError(id);
    }
    this.creating.add(id);
    try {
      report('checking', 'checking the engine');
      const checking = performance.now();
      await this.pings.share('engine', () => engine.ping());
      const network = await this.options.network.resolve();
      if (await engine.inspectContainer(containerNameFor(id))) {
        throw new AgentExistsError(id);
      }
      const limits = await admission.limitsFor(request.limits);
      if (!hooks.force) {
        await admission.admit([request]);
      }
      const [gitIdentity] = await Promise.all([
        this.options.identity ?? readHostIdentity(this.options.identityFrom),
        engine.ensureImage(image, (p) => report('image', p.message, p.percent), hooks.signal),
      ]);
      throwIfAborted(hooks.signal, `creation of agent '${id}'`);
      this.timings('checks', performance.now() - checking);

      const strategy = request.strategy ?? this.options.strategy;
      await this.options.starters[strategy].start({ id, repoUrl, baseBranch, image, strategy, gitIdentity, limits, network, request, report, signal: hooks.signal, consent: this.consentOf(hooks) });
      report('ready', `agent '${id}' is ready on ${sessionBranchFor(id)}`);
      log.info(`created agent '${id}' from ${redactCredentials(repoUrl)}`);
      return await timeStep(this.timings, 'agent read', () => this.options.agents.get(id));
    } finally {
      this.creating.delete(id);
    }
  }

  private consentOf(hooks: CreateHooks): SetupConsent {
    return hooks.consent ?? this.options.setupConsent ?? refuseSetup;
  }
}
