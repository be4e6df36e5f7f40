#!/usr/bin/env node
// The compiled CLI; `make build` (npm run build) writes dist/.
import "../dist/cli/main.js";
