import type { FunctionSpec } from '../../contracts/index.js';

/** What the control plane reports about one function's load (queue + dispatcher). */
export interface LoadSample {
  queueDepth: number;
  inFlight: number;
}

export interface ScalerSettings {
  /** Minimum time between two scale-ups, so new pods get a chance to become ready. */
  scaleUpCooldownMs: number;
  /** Load must stay below the current replica count this long before scaling down. */
  scaleDownCooldownMs: number;
}

export const DEFAULT_SCALER_SETTINGS: ScalerSettings = { scaleUpCooldownMs: 10_000, scaleDownCooldownMs: 60_000 };

export interface ScalingBounds {
  min: number;
  max: number;
  /** Work one replica is expected to carry: `in_flight`/`queue_depth` metric targets, else concurrency. */
  perReplica: { inFlight: number; queueDepth: number };
}

/** Memory of one function between decisions. */
export interface ScalerState {
  replicas: number;
  lastChangeAt: number;
  /** Since when the wanted count has been below `replicas` (undefined: it is not). */
  belowSince?: number;
  /** Highest count wanted since `belowSince`: a scale-down goes no lower than this. */
  belowPeak?: number;
}

/** Only INTERNAL-strategy functions are scaled by the control plane; HPA/NONE are left alone. */
export function boundsFor(spec: FunctionSpec): ScalingBounds | undefined {
  const cfg = spec.scalingConfig;
  if (cfg?.strategy !== 'INTERNAL') return undefined;
  const min = cfg.minReplicas ?? 1;
  const max = Math.max(min, cfg.maxReplicas ?? 10);
  const target = (type: string): number | undefined => {
    const t = cfg.metrics?.find((m) => m.type === type)?.target;
    return t !== undefined && t > 0 ? t : undefined;
  };
  return {
    min,
    max,
    perReplica: {
      inFlight: target('in_flight') ?? spec.concurrency,
      queueDepth: target('queue_depth') ?? spec.concurrency,
    },
  };
}

/** Replicas the load asks for, before bounds and cool-downs. */
export function wantedReplicas(load: LoadSample, b: ScalingBounds): number {
  const byInFlight = Math.ceil(load.inFlight / b.perReplica.inFlight);
  const byQueue = Math.ceil(load.queueDepth / b.perReplica.queueDepth);
  // Work in flight and work waiting both need a replica; a queue on top of a busy fleet adds more.
  const wanted = load.queueDepth > 0 ? byInFlight + byQueue : byInFlight;
  return Math.min(b.max, Math.max(b.min, wanted));
}

/**
 * One scaling decision: up as soon as the up cool-down allows; down only after the load has
 * stayed below the current count for the whole down cool-down, and then only to the peak wanted
 * in that window (no flapping on a momentary lull). Pure: the clock is the `now` argument.
 */
export function decide(
  state: ScalerState,
  load: LoadSample,
  b: ScalingBounds,
  now: number,
  s: ScalerSettings = DEFAULT_SCALER_SETTINGS,
): ScalerState {
  const wanted = wantedReplicas(load, b);
  // Bounds changed under us (re-registration): obey them at once.
  if (state.replicas < b.min || state.replicas > b.max) {
    return { replicas: Math.min(b.max, Math.max(b.min, state.replicas)), lastChangeAt: now };
  }
  if (wanted > state.replicas) {
    if (now - state.lastChangeAt < s.scaleUpCooldownMs) return { replicas: state.replicas, lastChangeAt: state.lastChangeAt };
    return { replicas: wanted, lastChangeAt: now };
  }
  if (wanted === state.replicas) return { replicas: state.replicas, lastChangeAt: state.lastChangeAt };
  const belowSince = state.belowSince ?? now;
  const belowPeak = Math.max(state.belowPeak ?? wanted, wanted);
  if (now - belowSince >= s.scaleDownCooldownMs && now - state.lastChangeAt >= s.scaleDownCooldownMs) {
    return { replicas: belowPeak, lastChangeAt: now };
  }
  return { replicas: state.replicas, lastChangeAt: state.lastChangeAt, belowSince, belowPeak };
}

export interface ScalerLoopOptions {
  settings: ScalerSettings;
  intervalMs: number;
  now: () => number;
  /** Spec of a provisioned function, undefined once it is gone. */
  specOf(name: string): FunctionSpec | undefined;
  /** Replica count the cluster currently wants for it (from the watch). */
  currentReplicas(name: string): number | undefined;
  scale(name: string, replicas: number): Promise<void>;
  onError(name: string, err: unknown): void;
}

export interface ScalerLoop {
  observe(name: string, load: LoadSample): void;
  /** Evaluate every observed function once (the timer calls this; tests call it directly). */
  tick(): Promise<void>;
  /** The replica count was set from outside (PUT replicas): count it as a change. */
  noteManualScale(name: string, replicas: number): void;
  forget(name: string): void;
  stop(): void;
}

/** The loop around `decide`: the latest load sample per function, evaluated every intervalMs. */
export function createScalerLoop(o: ScalerLoopOptions): ScalerLoop {
  const loads = new Map<string, LoadSample>();
  const states = new Map<string, ScalerState>();
  let running = false;
  const timer = setInterval(() => void loop.tick(), o.intervalMs);
  timer.unref();

  const loop: ScalerLoop = {
    observe(name, load) {
      loads.set(name, load);
    },
    async tick() {
      if (running) return; // a slow API call must not stack decisions
      running = true;
      try {
        for (const [name, load] of loads) {
          const spec = o.specOf(name);
          const bounds = spec && boundsFor(spec);
          if (!bounds) continue;
          const now = o.now();
          const prev = states.get(name) ?? {
            replicas: o.currentReplicas(name) ?? spec.replicas,
            lastChangeAt: Number.NEGATIVE_INFINITY,
          };
          const next = decide(prev, load, bounds, now, o.settings);
          if (next.replicas !== prev.replicas) {
            try {
              await o.scale(name, next.replicas);
            } catch (err) {
              o.onError(name, err);
              continue; // keep the old state: the decision is retried next tick
            }
          }
          states.set(name, next);
        }
      } finally {
        running = false;
      }
    },
    noteManualScale(name, replicas) {
      states.set(name, { replicas, lastChangeAt: o.now() });
    },
    forget(name) {
      loads.delete(name);
      states.delete(name);
    },
    stop() {
      clearInterval(timer);
    },
  };
  return loop;
}
