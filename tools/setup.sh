#!/usr/bin/env bash
# Installs what gan.c needs on Debian 12 (only the missing packages), then configures and builds
# with meson into build/ (and, with --asan, a sanitizer build into build-asan/).
# Sourced or run by run-main.sh and run-tests.sh; safe to run again: each step is skipped when
# already done.
#   tools/setup.sh [--tests] [--asan] [--fuzz]
#     --tests  also install what the test suite uses (PyTorch for the checkpoint interop test,
#              protobuf to read TensorBoard event files back, valgrind for the leak check,
#              chromium to open report.html headless in test_report_browser, Open MPI to run
#              the data-parallel tests as 2 processes)
#     --asan   also build build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer
#     --fuzz   also install clang 14 with its libFuzzer and OpenMP runtimes, and build the fuzz
#              harnesses of tests/fuzz/ into build-fuzz/ (clang, ASan + UBSan, -Dfuzz=true)
#   GAN_WERROR=1 in the environment makes every warning an error (CI sets it: the code is
#   warning-free there; a user's newer compiler may warn where ours did not, and should still
#   build).
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
want_asan=0
want_fuzz=0
for arg in "$@"; do
  case "$arg" in
    --tests) want_tests=1 ;;
    --asan) want_asan=1 ;;
    --fuzz) want_fuzz=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

packages=(gcc libc6-dev pkg-config meson ninja-build
          libopenblas-dev libhdf5-dev hdf5-tools libstb-dev libyaml-dev zlib1g-dev
          dataset-fashion-mnist)
if [ "$want_tests" = 1 ]; then
  packages+=(python3 python3-torch python3-h5py python3-numpy python3-scipy python3-protobuf valgrind chromium
             libopenmpi-dev openmpi-bin)
fi
if [ "$want_fuzz" = 1 ]; then
  packages+=(clang-14 libclang-rt-14-dev libomp-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

werror=false
[ "${GAN_WERROR:-0}" = 1 ] && werror=true

# configure DIR OPTIONS...: sets DIR up once; afterwards only the werror choice is reapplied.
configure() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" -Dwerror=$werror
  elif [ "$werror" = true ]; then
    meson configure "$dir" -Dwerror=true
  fi
}

configure build --buildtype=release
ninja -C build

if [ "$want_asan" = 1 ]; then
  # The sanitizers instrument host code; nvcc's objects would not be, so CUDA stays out of it.
  # MPI too: Open MPI's own allocations at exit read as leaks. This build checks the
  # single-process path, and that a build without MPI refuses to be one of several processes.
  configure build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dcuda=disabled \
    -Dmpi=disabled
  ninja -C build-asan
fi

if [ "$want_fuzz" = 1 ]; then
  # libFuzzer comes with clang; CUDA stays out as for build-asan. debugoptimized: fuzzing wants
  # speed, and assertions stay on.
  CC=clang-14 configure build-fuzz --buildtype=debugoptimized -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dcuda=disabled -Dmpi=disabled
  ninja -C build-fuzz
fi
