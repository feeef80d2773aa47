#!/usr/bin/env node
// Launcher for the TypeScript CLI, so `npx seamwork …` works from a clone without a build step.
import { register } from 'tsx/esm/api';

register();
await import('./seamwork.ts');
