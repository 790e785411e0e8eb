#!/usr/bin/env bash
# Builds every workspace through turbo (cached), printing turbo's output only on failure,
# so that commands like `npm run control-plane -- up` keep stdout for their result.
out=$(TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1 npx --no-install turbo run build --output-logs=errors-only 2>&1) || {
  printf '%s\n' "$out" >&2
  exit 1
}
