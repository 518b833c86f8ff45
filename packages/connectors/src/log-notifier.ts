import type { Notification, Notifier } from '@waybill/core';

/** Writes each notification as one JSON line (a log file, or standard error) for a log collector. */
export class LogNotifier implements Notifier {
  readonly channel: string;

  constructor(
    private readonly write: (line: string) => Promise<void> | void = (line) =>
      void process.stderr.write(line),
    channel = 'log',
  ) {
    this.channel = channel;
  }

  async notify(n: Notification): Promise<{ delivered: boolean; detail?: string }> {
    try {
      await this.write(`${JSON.stringify({ notification: n })}\n`);
      return { delivered: true };
    } catch {
      return { delivered: false, detail: 'could not write the log' };
    }
  }
}
