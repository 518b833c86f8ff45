/** Something owners should hear about: today, a run that a validation gate stopped. */
export interface Notification {
  readonly type: 'run.failed';
  readonly workspace: string;
  readonly runId: string;
  readonly definition: string;
  /** The definition's owner (`team:growth`, `finance@example.com`): whom it concerns. */
  readonly owner: string;
  /** The error code and message of the failure (they never hold a value of the data). */
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

/**
 * Tells people about something (the `Notifier` port of STYLE.md §4). Adapters: a log line, a webhook.
 * Delivery is best effort: a notifier reports how it went and never throws, so a failed notification
 * never changes the outcome of what it reports.
 */
export interface Notifier {
  /** Where notifications go, for the audit log (`log`, `webhook https://hooks.example.com`): never a secret. */
  readonly channel: string;
  notify(n: Notification): Promise<{ readonly delivered: boolean; readonly detail?: string }>;
}
