import { createRequire } from 'node:module';
import type * as NodeCron from 'node-cron';
import type { Clock } from '../clock.js';
import type { Trigger } from './trigger.js';

/**
 * Cron expressions (with an optional seconds field) through node-cron. node-cron's own overlap
 * handling stays off: the scheduler owns overlap, so interval and cron jobs behave the same. The
 * planned time is the cron slot node-cron fired for, mapped onto the monotonic clock.
 */
export class CronTrigger implements Trigger {
  private task: NodeCron.ScheduledTask | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly expression: string,
  ) {}

  start(onFire: (plannedNs: bigint) => void, onMissed: (slots: number) => void): void {
    // Required on first use, synchronously (a job starts when it is scheduled, as interval jobs do):
    // node-cron costs 8-14 ms of start-up that a config without cron schedules never needs.
    const { createTask } = createRequire(import.meta.url)('node-cron') as typeof NodeCron;
    const task = createTask(this.expression, (ctx) => {
      const lateMs = Math.max(0, this.clock.wallMs() - ctx.date.getTime());
      onFire(this.clock.monotonicNs() - BigInt(Math.round(lateMs * 1e6)));
    });
    task.on('execution:missed', () => onMissed(1));
    void task.start();
    this.task = task;
  }

  stop(): void {
    void this.task?.destroy();
    this.task = undefined;
  }
}
