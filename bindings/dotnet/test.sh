#!/usr/bin/env bash
# Builds the .NET binding (bindings/dotnet) and runs its xunit tests against a built libstella.
#
#   bindings/dotnet/test.sh [BUILD_DIR]     BUILD_DIR: a CMake build of Stella (default build/release)
#
# Needs libstella.so (target stella_shared) and the C++ helpers capi_cxx_peer and
# dotnet_serial_peer in BUILD_DIR; builds them if missing. Restores NuGet packages from this
# directory's nuget.config (the machine's NuGet source and /opt/nuget/packages), once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build/release}" && pwd)"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "bindings/dotnet: SKIPPED: the .NET SDK (dotnet) is not installed"
  exit 0
fi

cmake --build "$build" -j "${JOBS:-2}" --target stella_shared capi_cxx_peer dotnet_bench_cxx
filter=()
# The C++ side of the serializer interop test needs the json, msgpack and protobuf components.
if ! cmake --build "$build" -j "${JOBS:-2}" --target dotnet_serial_peer; then
  echo "bindings/dotnet: no dotnet_serial_peer (Stella built without json/msgpack/protobuf):" \
       "SKIPPING the C# <-> C++ serializer interop tests"
  filter=(--filter "FullyQualifiedName!~CSharpSerializedRecordsDecodeInCpp&FullyQualifiedName!~CppSerializedRecordsDecodeInCSharp")
fi

export STELLA_LIBRARY="$build/client/libstella.so"
export STELLA_CAPI_CXX_PEER="$build/tests/capi/capi_cxx_peer"
export STELLA_DOTNET_SERIAL_PEER="$build/tests/dotnet/dotnet_serial_peer"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

cd "$here"
dotnet build Stella.Tests/Stella.Tests.csproj -c Release -nologo -v quiet
dotnet test Stella.Tests/Stella.Tests.csproj -c Release --no-build -nologo -v quiet "${filter[@]}"

if [[ "${STELLA_DOTNET_BENCH:-0}" == 1 ]]; then
  # The per-message cost of the binding against C++'s (the README's table).
  dotnet Stella.Peer/bin/Release/net10.0/Stella.Peer.dll bench "dotnet-bench.$$" 2000000 64
  "$build/tests/dotnet/dotnet_bench_cxx" "dotnet-bench-cxx.$$" 2000000 64
fi
