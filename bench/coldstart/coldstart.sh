#!/usr/bin/env bash
# Cold-start wall time of the native binary and of `dotnet llmsize.dll`, median of N runs each (default 21), for
# `params <model> --json` and `memory <model> --json`. Usage: bench/coldstart/coldstart.sh [NATIVE_DIR] [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
native_dir="${1:-/tmp/llmsize-native}"
n="${2:-21}"
if [ ! -x "$native_dir/llmsize" ]; then
  dotnet publish src/LlmSizer.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$native_dir" >/dev/null
fi
dotnet build src/LlmSizer.Cli -c Release >/dev/null
dll="src/LlmSizer.Cli/bin/Release/net10.0/llmsize.dll"
median() { # median of N runs of the command, in ms
  python3 - "$n" "$@" <<'PY'
import subprocess, sys, time, statistics
n = int(sys.argv[1]); cmd = sys.argv[2:]
times = []
for _ in range(n):
    t = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True); times.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(times):.1f}")
PY
}
printf '| command | native (ms) | dotnet llmsize.dll (ms) | ratio |\n| --- | ---: | ---: | ---: |\n'
for args in "params llama-3.1-8b --json" "memory llama-3.1-8b --json" "fit llama-3.1-8b --gpu rtx-4090 --json"; do
  a=$(median "$native_dir/llmsize" $args); b=$(median dotnet "$dll" $args)
  printf '| `%s` | %s | %s | %.0f× |\n' "$args" "$a" "$b" "$(python3 -c "print($b/$a)")"
done
