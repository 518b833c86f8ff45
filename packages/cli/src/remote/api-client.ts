import { WaybillError, type WaybillErrorCode } from '@waybill/core';

const TIMEOUT_MS = 30_000;

/**
 * The CLI's side of `--server URL`: calls the Waybill HTTP API as the principal whose API key is in
 * `WAYBILL_API_KEY` (exchanged for an access token on first use), or with the access token in
 * `WAYBILL_TOKEN`. Errors of the server come back as the `WaybillError` they were on the server.
 */
export class ApiClient {
  private token: string | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly credentials: { readonly apiKey?: string; readonly token?: string },
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.token = credentials.token;
  }

  static fromEnv(server: string, env: NodeJS.ProcessEnv): ApiClient {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new WaybillError(
        'ERR_WAYBILL_USAGE',
        `--server must be a URL such as http://127.0.0.1:8080, got "${server}"`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new WaybillError(
        'ERR_WAYBILL_USAGE',
        `--server must be an http:// or https:// URL, got "${server}"`,
      );
    }
    const apiKey = env['WAYBILL_API_KEY'] || undefined;
    const token = env['WAYBILL_TOKEN'] || undefined;
    if (!apiKey && !token) {
      throw new WaybillError(
        'ERR_WAYBILL_UNAUTHENTICATED',
        'with --server, set WAYBILL_API_KEY to your API key (or WAYBILL_TOKEN to an access token from `waybill login`)',
      );
    }
    return new ApiClient(url.origin + url.pathname.replace(/\/+$/, ''), {
      ...(apiKey ? { apiKey } : {}),
      ...(token ? { token } : {}),
    });
  }

  /** Exchanges the API key for an access token. */
  async login(): Promise<{ accessToken: string; expiresAt: string }> {
    if (!this.credentials.apiKey) {
      throw new WaybillError(
        'ERR_WAYBILL_UNAUTHENTICATED',
        'set WAYBILL_API_KEY to the API key to log in with',
      );
    }
    const r = await this.send<{ accessToken: string; expiresAt: string }>(
      'POST',
      '/v1/auth/token',
      {
        apiKey: this.credentials.apiKey,
      },
      false,
    );
    this.token = r.accessToken;
    return r;
  }

  async call<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T> {
    if (this.token === undefined) await this.login();
    return this.send<T>(method, path, body, true);
  }

  private async send<T>(method: string, path: string, body: unknown, auth: boolean): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: {
          accept: 'application/json',
          ...(auth && this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new WaybillError(
        'ERR_WAYBILL_SERVER_UNREACHABLE',
        `cannot reach the Waybill server at ${this.baseUrl} (${(err as Error).message})`,
        {
          cause: err,
        },
      );
    }
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      // handled below
    }
    if (!response.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      if (e?.code?.startsWith('ERR_WAYBILL_') && typeof e.message === 'string') {
        throw new WaybillError(e.code as WaybillErrorCode, e.message);
      }
      throw new WaybillError(
        'ERR_WAYBILL_SERVER_UNREACHABLE',
        `the server at ${this.baseUrl} answered ${method} ${path} with HTTP ${response.status}`,
      );
    }
    if (text !== '' && json === undefined) {
      throw new WaybillError(
        'ERR_WAYBILL_SERVER_UNREACHABLE',
        `the server at ${this.baseUrl} answered ${method} ${path} with something that is not JSON`,
      );
    }
    return json as T;
  }
}
