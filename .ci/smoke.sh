#!/usr/bin/env bash
# Ship checks (run by .ci/run after the tests): the NativeAOT binary, the dotnet tool package and the NuGet library.
# Prints one "smoke: PASS|FAIL <check>" line per check and, last, "smoke-counts <passed> <failed>".
set -uo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
check() { # check NAME COMMAND... : passes when the command exits 0
  local name="$1"; shift
  if "$@" >"$work/out" 2>"$work/err"; then passed=$((passed + 1)); echo "smoke: PASS $name"
  else failed=$((failed + 1)); echo "smoke: FAIL $name"; head -c 2000 "$work/out" "$work/err"; fi
}

# NativeAOT needs clang (and zlib1g-dev) from Debian.
if ! command -v clang >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq clang zlib1g-dev) >/dev/null 2>&1 || echo "warning: could not install clang" >&2
fi

native="$work/native"
check "native binary publishes with no trim/AOT warnings" bash -c "
  dotnet publish src/LlmSizer.Cli -c Release -r linux-x64 -p:PublishAot=true -o '$native' -p:TreatWarningsAsErrors=true > '$work/publish.log' 2>&1 \
    && ! grep -E ' warning (IL|CS)' '$work/publish.log'"
bin="$native/llmsize"
check "native params --json gives the published count" bash -c "'$bin' params llama-3.1-8b --json | grep -q '\"total\": 8030261248'"
check "native memory --json is one JSON document" bash -c "'$bin' memory llama-3.1-8b --context 32k --json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"assumptions\"][\"context\"] == 32768'"
check "native fit answers and exits 3 when nothing fits" bash -c "'$bin' fit llama-3.1-8b --gpu 4090 --json >/dev/null 2>&1 && { '$bin' fit llama-3.1-405b --gpu rtx-3060-12gb --max-gpus 1 --gpu-only >/dev/null 2>&1; test \$? -eq 3; }"
check "native bad input: exit 1 and one line on stderr" bash -c "'$bin' memory llama-3.1-8b --tp abc >/dev/null 2>'$work/e'; rc=\$?; test \$rc -eq 1 && test \$(wc -l < '$work/e') -eq 1 && grep -q '^error: --tp:' '$work/e'"
check "native --version names version and commit" bash -c "'$bin' --version | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+\+[0-9a-f]{7,}'"
size=$(stat -c %s "$bin" 2>/dev/null || echo 0)
echo "smoke: native binary size $size bytes"

# The dotnet tool: pack, install into a temporary tool path, run.
check "dotnet tool packs, installs into a tool path and runs" bash -c "
  dotnet pack src/LlmSizer.Cli -c Release -o '$work/nupkg' > '$work/pack.log' 2>&1 \
  && dotnet tool install LlmSizer.Cli --tool-path '$work/tools' --add-source '$work/nupkg' > '$work/install.log' 2>&1 \
  && '$work/tools/llmsize' params gpt2 --json | grep -q '\"total\": 124439808'"

check "dotnet tool: llmsize serve answers /healthz (llmsize-web ships in the tool)" bash -c "
  '$work/tools/llmsize' serve --urls http://127.0.0.1:5987 > '$work/serve.log' 2>&1 & pid=\$!
  for i in \$(seq 1 40); do curl -sf http://127.0.0.1:5987/healthz > /dev/null && break; sleep 0.5; done
  ok=\$(curl -sf http://127.0.0.1:5987/healthz); kill \$pid 2>/dev/null; wait \$pid 2>/dev/null; test \"\$ok\" = ok"
check "dotnet tool: llmsize mcp answers an MCP initialize (llmsize-mcp ships in the tool)" bash -c "
  (printf '%s\\n' '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"ci\",\"version\":\"1\"}}}'; sleep 5) \
    | timeout 20 '$work/tools/llmsize' mcp 2>/dev/null | grep -q '\"serverInfo\"'"

# The NuGet library: packs with its README, licence and XML docs.
check "library packs with README, LICENSE and XML docs" bash -c "
  dotnet pack src/LlmSizer -c Release -o '$work/lib' > '$work/libpack.log' 2>&1 \
  && python3 - '$work/lib' <<'PY'
import sys, zipfile, glob
pkg = [p for p in glob.glob(sys.argv[1] + '/LlmSizer.*.nupkg') if not p.endswith('.snupkg')][0]
names = zipfile.ZipFile(pkg).namelist()
for need in ('README.md', 'LICENSE', 'lib/net10.0/LlmSizer.dll', 'lib/net10.0/LlmSizer.xml'):
    assert need in names, need
PY"

echo "smoke-counts $passed $failed"
