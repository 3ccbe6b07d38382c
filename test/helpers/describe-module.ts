/**
 * Prints a PKCS#11 module's description and its tokens as JSON (npx tsx
 * test/helpers/describe-module.ts MODULE). A child process, so a test can read a module that only
 * works inside a sandbox's namespaces (opencryptoki) or environment (tpm2-pkcs11).
 */
import { openModule } from '../../electron/core/hsm/index.ts';

const mod = openModule(process.argv[2]!);
try {
  process.stdout.write(JSON.stringify({ info: mod.info, tokens: mod.tokens() }) + '\n');
} finally {
  mod.close();
}
