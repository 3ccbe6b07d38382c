// Loaded with `node --import`: makes every attempt to load the PKCS#11 binding fail, as on a machine
// where pkcs11js was never built. ESM imports go through the resolve hook; CommonJS require()
// (graphene-pk11 requires pkcs11js) through Module._resolveFilename.
import Module, { register } from 'node:module';

const BLOCKED = /^(pkcs11js|graphene-pk11)(\/|$)/;
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (BLOCKED.test(request)) throw new Error(`no-native: ${request} may not be loaded`);
  return resolveFilename.call(this, request, ...rest);
};
register(
  'data:text/javascript,' +
    encodeURIComponent(
      `export async function resolve(s, c, next) { if (${BLOCKED}.test(s)) throw new Error('no-native: ' + s + ' may not be loaded'); return next(s, c); }`,
    ),
);
