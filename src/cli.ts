import { main } from './main.js';
import { afterStdout } from './ui/output.js';

// Node puts the script path at argv[1]; everything after it is ours.
const code = await main(process.argv.slice(2));
// Exit explicitly (after stdout drains) so no stray socket or timer keeps a finished run alive.
afterStdout(() => process.exit(code));
