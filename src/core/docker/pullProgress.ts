/** One event of the engine's image pull stream. */
export interface PullEvent {
  readonly id?: string;
  readonly status?: string;
  readonly progressDetail?: { current?: number; total?: number };
  readonly error?: string;
}

/**
 * Folds pull events into one percentage over all layers that report a size.
 * Layers that are already present or finished count as complete.
 */
export class PullProgress {
  private readonly layers = new Map<string, { current: number; total: number }>();

  add(event: PullEvent): number | undefined {
    if (!event.id) {
      return this.percent();
    }
    const layer = this.layers.get(event.id) ?? { current: 0, total: 0 };
    const status = event.status ?? '';
    if (status === 'Downloading' && event.progressDetail?.total) {
      layer.total = event.progressDetail.total;
      layer.current = event.progressDetail.current ?? 0;
    } else if (/^(Download complete|Pull complete|Already exists|Extracting)/.test(status) && layer.total) {
      layer.current = layer.total;
    }
    this.layers.set(event.id, layer);
    return this.percent();
  }

  percent(): number | undefined {
    let current = 0;
    let total = 0;
    for (const layer of this.layers.values()) {
      current += layer.current;
      total += layer.total;
    }
    return total > 0 ? Math.min(100, Math.floor((current * 100) / total)) : undefined;
  }
}
