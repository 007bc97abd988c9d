#!/usr/bin/env node
// The `enroll` command (package.json "bin"): runs the TypeScript CLI in this process through tsx,
// found next to this file, so it works from any directory.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/enroll.ts');
process.exitCode = await main(process.argv.slice(2), process.env);
