import type { Command } from 'commander';
import { systemClock } from '@waybill/core';
import { openHome, resolveHome } from '../home.js';
import { usage } from '../output.js';
import { globals, type CommandContext } from './command-context.js';

/**
 * `waybill serve`: the HTTP API over the home, until SIGINT or SIGTERM. On shutdown it stops accepting
 * requests, lets those in flight finish, stops the runs it started (they roll back), signs a checkpoint
 * of what it logged, and closes the store.
 */
export function registerServeCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  program
    .command('serve')
    .description(
      'serve the HTTP API (OpenAPI at /openapi.json); prints "listening on URL" on stderr when ready',
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '8080')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'the certificate’s private key (PEM)')
    .option('--tls-client-ca <file>', 'mutual TLS: require client certificates from this CA (PEM)')
    .option('--body-limit <bytes>', 'largest request body accepted', String(1024 * 1024))
    .option('--log-level <level>', 'fatal, error, warn, info, debug or silent', 'info')
    .option('--oidc-issuer <url>', 'also accept access tokens of this OpenID Connect issuer')
    .option('--oidc-audience <aud>', 'the audience those tokens must carry (Waybill’s client id)')
    .option('--oidc-jwks-url <url>', 'the issuer’s JWKS (default: <issuer>/.well-known/jwks.json)')
    .option('--oidc-roles-claim <claim>', 'the claim holding Waybill roles', 'roles')
    .option('--oidc-workspace <name>', 'the workspace of the issuer’s users', 'default')
    .action(
      async (
        o: {
          host: string;
          port: string;
          tlsCert?: string;
          tlsKey?: string;
          tlsClientCa?: string;
          bodyLimit: string;
          logLevel: string;
          oidcIssuer?: string;
          oidcAudience?: string;
          oidcJwksUrl?: string;
          oidcRolesClaim: string;
          oidcWorkspace: string;
        },
        cmd: Command,
      ) => {
        if (!/^\d{1,5}$/.test(o.port) || Number(o.port) > 65535)
          throw usage(`--port must be 0–65535, got "${o.port}"`);
        if (!/^\d{1,9}$/.test(o.bodyLimit) || Number(o.bodyLimit) < 1024) {
          throw usage(`--body-limit must be a number of bytes, at least 1024, got "${o.bodyLimit}"`);
        }
        if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
          throw usage('give --tls-cert and --tls-key together');
        if (o.tlsClientCa !== undefined && o.tlsCert === undefined)
          throw usage('--tls-client-ca needs --tls-cert and --tls-key');
        const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
        const level = levels.find((l) => l === o.logLevel);
        if (level === undefined)
          throw usage(`--log-level must be one of ${levels.join(', ')}, got "${o.logLevel}"`);

        if ((o.oidcIssuer === undefined) !== (o.oidcAudience === undefined)) {
          throw usage('give --oidc-issuer and --oidc-audience together');
        }
        if (o.oidcIssuer !== undefined && !/^https?:\/\/\S+$/.test(o.oidcIssuer)) {
          throw usage(`--oidc-issuer must be an http(s) URL, got "${o.oidcIssuer}"`);
        }
        // Loaded here, not at start: every other command runs without the HTTP stack.
        const { serveHttp, waybillServer } = await import('@waybill/server');
        const h = await openHome(resolveHome(globals(cmd).home, io.env), io.env);
        const stopCheckpointing = h.audit.startCheckpointing();
        const shutdown = new AbortController();
        const onSignal = (): void => shutdown.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const server = await waybillServer({
            services: h,
            store: h.store,
            audit: h.audit,
            keys: h.keys,
            clock: systemClock,
            bodyLimit: Number(o.bodyLimit),
            ...(o.oidcIssuer !== undefined && o.oidcAudience !== undefined
              ? {
                  oidc: {
                    issuer: o.oidcIssuer,
                    audience: o.oidcAudience,
                    rolesClaim: o.oidcRolesClaim,
                    workspace: o.oidcWorkspace,
                    ...(o.oidcJwksUrl !== undefined ? { jwksUrl: o.oidcJwksUrl } : {}),
                  },
                }
              : {}),
            logger: { level },
          });
          const running = await serveHttp(server.appOptions, {
            host: o.host,
            port: Number(o.port),
            ...(o.tlsCert !== undefined && o.tlsKey !== undefined
              ? {
                  tls: {
                    certFile: o.tlsCert,
                    keyFile: o.tlsKey,
                    ...(o.tlsClientCa !== undefined ? { clientCaFile: o.tlsClientCa } : {}),
                  },
                }
              : {}),
            signal: shutdown.signal,
          });
          io.stderr.write(`listening on ${running.url}\n`);
          await running.closed;
          await server.runs.drain(true);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await stopCheckpointing();
          await h.close();
        }
      },
    );
}
