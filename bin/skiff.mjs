#!/usr/bin/env node
// Runs the TypeScript CLI in place; tsx is resolved from this package, wherever it is called.
import { register } from 'tsx/esm/api';

register();
await import('./skiff.ts');
