#!/usr/bin/env node
// Each package's `prepack`: only pnpm turns the `workspace:^` ranges between our packages into
// versions when it packs or publishes. A tarball made by `npm pack` / `npm publish` keeps
// "workspace:^", and npm then fails to install it with no message at all.
const agent = process.env.npm_config_user_agent ?? ''
if (!agent.startsWith('pnpm/')) {
  console.error(`Pack and publish with pnpm (npx pnpm@12 pack / publish), not ${agent.split(' ')[0] || 'this tool'}: only pnpm rewrites the workspace:^ ranges of @partstream/* dependencies.`)
  process.exit(1)
}
