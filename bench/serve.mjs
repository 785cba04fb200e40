// Child process entry: one callback server on loopback.
//   node bench/serve.mjs <module> <tokenBase> [<options JSON>]
// <module> names a file in bench/servers/; the options are handed to its create() (which may be async).
import http from 'node:http';
import { exitWithParent, reportReady } from './child.mjs';

const [name, tokenBase, optionsJson = '{}'] = process.argv.slice(2);
if (!name || !tokenBase) {
  console.error('usage: node bench/serve.mjs <server-module> <token-base-url> [<options JSON>]');
  process.exit(2);
}
const { create } = await import(`./servers/${name}.mjs`);
const { handler, close } = await create({ tokenBase, options: JSON.parse(optionsJson) });
const server = http.createServer(handler);
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(0, '127.0.0.1', () => {
  reportReady({ port: server.address().port, pid: process.pid });
});
exitWithParent(() => {
  server.close();
  close();
});
