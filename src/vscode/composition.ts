import * as vscode from 'vscode';
import { AgentService } from '../core/agentService';
import { AgentsModel } from '../core/agentsModel';
import { Emitter } from '../core/base/event';
import { Engine } from '../core/docker/engine';
import { DevServers } from '../core/dev/devServers';
import { AgentPorts } from '../core/ports/agentPorts';
import { StatsSampler } from '../core/stats/statsSampler';
import { isRunning } from '../core/agent';
import { affectsService, readSettings } from './config';

/**
 * Hand-wired composition root: the engine, the service and the model, built
 * from the settings, and built again when one of their settings changes. The
 * UI listens to `onDidChange`, which outlives any one model.
 */
export class Gitiso implements vscode.Disposable {
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;
  private current!: { engine: Engine; service: AgentService; model: AgentsModel; ports: AgentPorts; devServers: DevServers; stats: StatsSampler; subscriptions: { dispose(): void }[] };
  private readonly configListener: vscode.Disposable;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.connect();
    this.configListener = vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsService(event)) {
        this.log.info('gitiso settings changed: reconnecting');
        this.teardown();
        this.connect();
      }
    });
  }

  get engine(): Engine {
    return this.current.engine;
  }

  get service(): AgentService {
    return this.current.service;
  }

  get model(): AgentsModel {
    return this.current.model;
  }

  /** This window's forwards of agents' ports to 127.0.0.1. */
  get ports(): AgentPorts {
    return this.current.ports;
  }

  get devServers(): DevServers {
    return this.current.devServers;
  }

  /** The running agents' CPU, memory and disk; the window turns it on while someone can see them. */
  get stats(): StatsSampler {
    return this.current.stats;
  }

  private connect(): void {
    const settings = readSettings();
    let engine: Engine;
    try {
      engine = new Engine(settings.dockerHost || undefined, this.log);
    } catch (error) {
      // A malformed address: say so, and use the default engine rather than none.
      const message = `gitiso.dockerHost: ${(error as Error).message}; using the default engine`;
      this.log.error(message);
      void vscode.window.showErrorMessage(message);
      engine = new Engine(undefined, this.log);
    }
    const service = new AgentService({
      engine,
      log: this.log,
      defaultImage: settings.image,
      network: settings.network || undefined,
      identityFrom: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      strategy: settings.createStrategy,
      cloneDepth: settings.cloneDepth || undefined,
      cloneFilter: settings.cloneFilter || undefined,
      storageDir: settings.storagePath || undefined,
      setup: settings.setup,
      limits: settings.limits,
    });
    const model = new AgentsModel(service, engine, this.log);
    const ports = new AgentPorts(service, engine, this.log);
    const devServers = new DevServers(service, ports, settings.setup);
    const stats = new StatsSampler(service, () => model.agents.filter(isRunning), this.log);
    const subscriptions = [model.onDidChange(() => this.changed.fire()), ports.onDidChange(() => this.changed.fire()), stats.onDidSample(() => this.changed.fire())];
    this.current = { engine, service, model, ports, devServers, stats, subscriptions };
    model.start();
    ports.start();
    this.log.info(`using the Docker engine at ${engine.address}`);
    this.changed.fire();
  }

  private teardown(): void {
    this.current.subscriptions.forEach((subscription) => subscription.dispose());
    this.current.ports.dispose();
    this.current.stats.dispose();
    this.current.model.dispose();
    this.current.service.dispose();
  }

  dispose(): void {
    this.configListener.dispose();
    this.teardown();
    this.changed.dispose();
  }
}
