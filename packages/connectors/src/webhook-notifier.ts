import { createHmac } from 'node:crypto';
import type { Notification, Notifier } from '@waybill/core';

export interface WebhookNotifierOptions {
  /** An https:// URL (http:// only on this machine). */
  readonly url: string;
  /** Signs each body (`X-Waybill-Signature: sha256=<hex HMAC>`), so the receiver can tell it is Waybill. */
  readonly secret?: string;
  readonly timeoutMs?: number;
  /** Attempts in all (a 5xx, 429 or network error is retried with backoff). */
  readonly attempts?: number;
  readonly fetch?: typeof fetch;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/**
 * POSTs each notification as JSON to a webhook: signed with HMAC-SHA-256 when a secret is set, the
 * notification's run id as `Idempotency-Key`, redirects not followed, a timeout, and retries with
 * exponential backoff on 5xx, 429 and network errors. Only a 2xx counts as delivered.
 */
export class WebhookNotifier implements Notifier {
  readonly channel: string;
  private readonly url: URL;

  constructor(private readonly o: WebhookNotifierOptions) {
    const url = new URL(o.url);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
      throw new Error('the webhook URL must be https:// (plain http only on this machine)');
    }
    this.url = url;
    // The channel names the endpoint without any credential a URL might carry.
    this.channel = `webhook ${url.origin}${url.pathname}`;
  }

  async notify(n: Notification): Promise<{ delivered: boolean; detail?: string }> {
    const body = JSON.stringify({ notification: n });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': n.runId,
      'user-agent': 'waybill-notifier',
    };
    if (this.o.secret)
      headers['x-waybill-signature'] =
        `sha256=${createHmac('sha256', this.o.secret).update(body).digest('hex')}`;
    const attempts = this.o.attempts ?? 3;
    let detail = '';
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200 * 2 ** (i - 1) * (0.5 + Math.random())));
      try {
        const r = await (this.o.fetch ?? fetch)(this.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
        });
        await r.body?.cancel();
        if (r.status >= 200 && r.status < 300) return { delivered: true };
        detail = `HTTP ${r.status}`;
        if (r.status < 500 && r.status !== 429) break;
      } catch (err) {
        detail = (err as Error).name === 'TimeoutError' ? 'timed out' : 'connection failed';
      }
    }
    return { delivered: false, detail };
  }
}
