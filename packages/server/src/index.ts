// The public face of @waybill/server: the HTTP foundation (routes, app, OpenAPI, errors, serving) and
// access tokens. Business routes are built on it elsewhere.
export { ERROR_STATUS, ERROR_CODES, httpStatusOf } from './http/error-status.js';
export { defineRoute } from './http/route-definition.js';
export {
  buildOpenApiDocument,
  openApiPath,
  BEARER_SCHEME,
  ERROR_SCHEMA,
  ERROR_BODY_SCHEMA,
} from './http/openapi-document.js';
export { createHttpApp } from './http/create-http-app.js';
export { serveHttp, loadTlsFiles } from './http/serve-http.js';
export { createHttpLogger, REDACTED_LOG_PATHS, redactUrl } from './http/http-logger.js';
export { requestIdFor } from './http/request-id.js';
export { AccessTokenService } from './auth/access-token-service.js';
export { principalLabel } from './auth/authenticated-principal.js';

export type {
  HttpMethod,
  RouteAuth,
  RouteLogger,
  RouteObjectSchema,
  RouteResponse,
  RouteContext,
  RouteReply,
  RouteSpec,
  RouteDefinition,
  UntypedRouteReply,
  Parsed,
  DeepReadonly,
} from './http/route-definition.js';
export type {
  JsonSchema,
  OpenApiInfo,
  OpenApiParameter,
  OpenApiResponse,
  OpenApiOperation,
  OpenApiDocument,
} from './http/openapi-document.js';
export type { HttpApp, HttpsOptions, CreateHttpAppOptions } from './http/create-http-app.js';
export type { TlsFiles, ServeHttpOptions, RunningHttpServer } from './http/serve-http.js';
export type { HttpLoggerOptions } from './http/http-logger.js';
export type {
  AccessTokenServiceOptions,
  VerifiedAccessToken,
  IssuedAccessToken,
} from './auth/access-token-service.js';
export type { AuthenticatedPrincipal } from './auth/authenticated-principal.js';
export { waybillServer, BackgroundRuns } from './waybill-server.js';
export type { WaybillServerOptions } from './waybill-server.js';
export { waybillRoutes } from './routes/waybill-routes.js';
export type { WaybillRoutesDeps } from './routes/waybill-routes.js';
export { exportJson, exportSchema } from './routes/export-json.js';
export type { ExportJson } from './routes/export-json.js';
export { OidcTokenVerifier } from './auth/oidc-token-verifier.js';
export type { OidcOptions, OidcIdentity } from './auth/oidc-token-verifier.js';
