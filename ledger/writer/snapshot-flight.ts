import { writeSnapshot, type WriterIo } from './writer-io.js';
import {
  cutSnapshot,
  snapshotDue,
  snapshotFailed,
  snapshotWritten,
  type SnapshotCut,
  type SnapshotLimits,
  type WriterState,
} from './writer-state.js';

export interface SnapshotInFlight {
  readonly cut: SnapshotCut;
  status: 'writing' | 'written' | 'failed' | 'conflict';
  readonly done: Promise<void>;
}

/**
 * The writer's background snapshot: at most one in flight, written while appends continue, and
 * applied to memory only at a safe point of the loop (`settle`, never between loading and
 * deciding). A header moved by another writer calls `onConflict` (the writer restores).
 */
export interface SnapshotFlight {
  /** The snapshot being written or written but not yet settled, if any. */
  current(): SnapshotInFlight | null;
  /** Drops the snapshot under way (memory is being restored: it is stale). */
  forget(): void;
  /** Starts writing a snapshot when one is due (or forced); the one in flight if there is one. */
  start(force: boolean): SnapshotInFlight | null;
  /** Applies a finished snapshot to memory. */
  settle(): void;
}

export function createSnapshotFlight(options: {
  io: WriterIo;
  state: WriterState;
  limits: SnapshotLimits;
  /** Wakes the loop when a snapshot of the current generation has finished. */
  kick: () => void;
  onConflict: () => void;
}): SnapshotFlight {
  const { io, state } = options;
  const { stream, logger } = io;
  let inFlight: SnapshotInFlight | null = null;
  return {
    current: () => inFlight,
    forget: () => void (inFlight = null),
    start(force) {
      if (inFlight !== null) return inFlight;
      if (!snapshotDue(state, options.limits, force)) return null;
      const cut = cutSnapshot(state);
      const flight: SnapshotInFlight = {
        cut,
        status: 'writing',
        done: writeSnapshot(io, cut).then((status) => {
          flight.status = status;
          if (cut.generation === state.generation) options.kick();
        }),
      };
      inFlight = flight;
      return flight;
    },
    settle() {
      const flight = inFlight;
      if (flight === null || flight.status === 'writing') return;
      inFlight = null;
      const revision = flight.cut.header.revision;
      switch (flight.status) {
        case 'written': {
          const evicted = snapshotWritten(state, flight.cut.delta, revision);
          logger?.debug({ stream, revision: revision.toString(), evicted }, 'ledger snapshot written');
          return;
        }
        case 'failed':
          snapshotFailed(state, flight.cut.delta);
          return;
        case 'conflict':
          // Another writer moved the header: what we hold may be stale.
          logger?.warn({ stream }, 'ledger snapshot header moved under this writer: restoring');
          options.onConflict();
          return;
        default: {
          const unreachable: never = flight.status;
          throw new Error(`unknown snapshot status ${String(unreachable)}`);
        }
      }
    },
  };
}
