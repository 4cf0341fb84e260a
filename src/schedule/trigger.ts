/** Decides when a job fires. `plannedNs` is the monotonic time the run was due. */
export interface Trigger {
  start(onFire: (plannedNs: bigint) => void, onMissed: (slots: number) => void): void;
  stop(): void;
}
