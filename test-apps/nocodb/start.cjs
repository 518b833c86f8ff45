// Starts the pinned NocoDB as its npm package documents it: an express app with Noco.init mounted.
// PORT and NC_DB come from the environment (set by the tests' launcher, packages/testkit/src/apps.ts).
const express = require('express');
const { Noco } = require('nocodb');
(async () => {
  const app = express();
  const port = Number(process.env.PORT || 8080);
  const server = app.listen(port, '127.0.0.1');
  app.use(await Noco.init({}, server, app));
  console.log(`nocodb listening on http://127.0.0.1:${port}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
