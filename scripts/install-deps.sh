#!/usr/bin/env bash
# Installs the Debian 12 packages Stella needs, only those missing. Runs apt-get update
# once, then one apt-get install. Works as root or through sudo.
set -euo pipefail
PACKAGES=(build-essential cmake pkg-config ccache
  libasio-dev libspdlog-dev libcli11-dev libtomlplusplus-dev doctest-dev
  nlohmann-json3-dev libmsgpack-cxx-dev libprotobuf-dev protobuf-compiler
  libsystemd-dev libboost-dev gnuplot-nox clang-14 libclang-rt-14-dev valgrind
  nats-server libnats-dev
  libacl1-dev)  # POSIX ACLs: reader_group and writer_group entries on segments (acl_set_fd)
# ---- BEGIN packaging and API docs (issue 16; owner: reach) ----
# lintian: checks the .deb that cpack builds (tests/install deb_package; about 10 s).
# doxygen: the API reference from the public headers (docs/api, scripts/test.sh).
PACKAGES+=(lintian doxygen)
# ---- END packaging and API docs ----
# ---- BEGIN Python bindings (issue 16; owner: python) ----
# pybind11-dev, python3-dev: build bindings/python (the stella module) for /usr/bin/python3.
# python3-pytest: tests/python. python3-msgpack: the module's msgpack helpers and their tests.
PACKAGES+=(pybind11-dev python3-dev python3-pytest python3-msgpack)
# ---- END Python bindings ----
PACKAGES+=(${STELLA_EXTRA_PACKAGES:-})
# prometheus: tests/tools/metrics_test scrapes stellad with a real Prometheus server (issue 18).
PACKAGES+=(prometheus)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${missing[@]}"
