#!/usr/bin/env node
// Where the `bench` entry point lived before runner/ was split into rooms. npx links a project's
// own bin once, when `npx bench` first runs in a checkout (npm exec installs the project into its
// cache and keeps that link), so a checkout used before the split still calls this path.
import './cli/cli.js';
