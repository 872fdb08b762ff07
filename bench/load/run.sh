#!/usr/bin/env bash
# Load test of the web API with Debian's wrk, against loopback only, bounded in time.
#   bench/load/run.sh [seconds per endpoint (default 10)] [connections (default 16)]
# Builds llmsize-web in Release, starts it on 127.0.0.1:5180, runs wrk against each URL below, prints requests/s,
# p99 latency and errors per URL, then the server's RSS (current and peak). Relative numbers only: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration="${1:-10}"
connections="${2:-16}"
port=5180
base="http://127.0.0.1:${port}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

dotnet build src/LlmSizer.Web -c Release -nologo -v q >/dev/null
dll="src/LlmSizer.Web/bin/Release/net10.0/llmsize-web.dll"
dotnet "$dll" --urls "$base" >/tmp/llmsize-web-load.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

urls=(
  "/api/memory?model=llama-3.1-8b"
  "/api/memory?model=llama-3.1-8b&context=32k&batch=4"
  "/api/memory?model=llama-3.1-70b&tensor_parallel=4&dtype=fp8&kv_dtype=fp8"
  "/api/memory?model=qwen3-8b&engine=llamacpp&dtype=q4_k_m&kv_dtype=q8_0&context=32768"
  "/api/memory?model=llama-3.1-8b&mode=training&zero_stage=3&gpus=8&recompute=full"
  "/api/memory?model=deepseek-v3&context=8k"
  "/healthz"
)

printf '| endpoint | requests/s | p50 | p99 | non-2xx | socket errors |\n| --- | ---: | ---: | ---: | ---: | ---: |\n'
for url in "${urls[@]}"; do
  curl -fsS "$base$url" >/dev/null   # warm: JIT and the prepared model
  out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$base$url")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  sock=$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' <<<"$out"); sock=${sock:-0}
  printf '| `%s` | %s | %s | %s | %s | %s |\n' "$url" "$rps" "$p50" "$p99" "$non2xx" "$sock"
done
rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
echo
echo "server RSS after the run: $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB); wrk -t2 -c${connections} -d${duration}s per endpoint; $(nproc) cores"
