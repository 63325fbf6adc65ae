// Entry point of `nanofaas` (bin/nanofaas imports the built copy of this file).
import { run } from './program.js';

process.exitCode = await run(process.argv.slice(2));
