import * as vscode from 'vscode';

/** One output channel per agent, made when first needed, for the output of git commands run in it. */
export class AgentOutputChannels implements vscode.Disposable {
  private readonly channels = new Map<string, vscode.OutputChannel>();

  get(agentId: string): vscode.OutputChannel {
    let channel = this.channels.get(agentId);
    if (!channel) {
      channel = vscode.window.createOutputChannel(`gitiso: ${agentId}`);
      this.channels.set(agentId, channel);
    }
    return channel;
  }

  dispose(): void {
    for (const channel of this.channels.values()) {
      channel.dispose();
    }
    this.channels.clear();
  }
}
