#!/usr/bin/env bash
# Makes the folder of build dependencies that tools/gpu_check.sh needs on a bare GPU machine,
# one that has nvcc, PyTorch and a compiler but no Debian -dev packages and no network: OpenBLAS,
# HDF5 (serial, C), libyaml, zlib and stb with their headers, a pkg-config file for each, and
# pkgconf itself. Run it here (Debian 12, bookworm, x86-64) once; docs/gpu.md says how the
# folder then travels with the device tool.
#   tools/gpu_bundle.sh [DIR]        DIR defaults to gpu-bundle/ at the repository root (git-ignored)
#
# DIR gets two files: deps.tar.xz (the prefix tree: include/, lib/, lib/pkgconfig/, bin/) and
# MANIFEST.txt (the packages and versions it came from, its files and its checksum).
# The packages are fetched with apt-get download and unpacked with dpkg-deb -x: nothing is
# installed. Where the download fails, the files of the installed package are copied instead.
#
# HDF5, libyaml, zlib, stb and libaec (HDF5's szip) are static archives: the gan binary then
# needs none of them at run time, and links only what it calls (the static HDF5 needs libsz and
# zlib, not the curl/OpenSSL chain of Debian's shared libhdf5). OpenBLAS is the shared library,
# with the libgfortran and libquadmath it needs beside it: the static one starts its threads
# from whichever constructor calls it first, and gan.c's CPU backend sets the thread count from
# a constructor of its own, which in a static link runs before OpenBLAS's and crashes it. Those
# three libraries get the run path $ORIGIN (patchelf, from Debian's package, run from the
# unpacked tree), so each finds the next in the same folder; the binary finds libopenblas through
# the run path meson gives it. The .pc files locate everything relative to themselves
# (${pcfiledir}), so the tree can be unpacked anywhere. Before packing, a program calling each
# library (and setting OpenBLAS's threads from a constructor, as gan.c does) is built against
# the tree alone (the system's .pc files hidden), checked to load libopenblas and libgfortran
# from the tree, and run.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-bundle}

# The Debian packages. OpenBLAS is the pthread flavour, as the host build uses (headers from the
# -dev package, the library from libopenblas0-pthread). patchelf is only run here.
packages=(libopenblas-pthread-dev libopenblas0-pthread libgfortran5 libquadmath0 libhdf5-dev libaec-dev
          libyaml-dev libstb-dev zlib1g-dev pkgconf-bin libpkgconf3 patchelf)

work=$(mktemp -d /tmp/gan-gpu-bundle.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/root"

# fetch PKG: unpacks the package's files under $work/root, as dpkg-deb -x lays them out; prints
# "PKG VERSION SOURCE" for the manifest.
fetch() {
  local p=$1 deb version
  if (cd "$work/debs" && apt-get download -qq "$p" >/dev/null 2>&1); then
    deb=$(ls "$work/debs/${p}"_*.deb)
    dpkg-deb -x "$deb" "$work/root"
    version=$(dpkg-deb -f "$deb" Version)
    echo "$p $version $(basename "$deb")"
  elif dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    dpkg -L "$p" | while read -r f; do
      if [ -f "$f" ] && [ ! -L "$f" ]; then
        mkdir -p "$work/root$(dirname "$f")"
        cp -p "$f" "$work/root$f"
      fi
    done
    version=$(dpkg-query -W -f='${Version}' "$p")
    echo "$p $version installed-files"
  else
    echo "gpu_bundle: cannot get $p (apt-get download failed and it is not installed)" >&2
    return 1
  fi
}

echo "gpu_bundle: fetching ${packages[*]}"
sources=()
for p in "${packages[@]}"; do sources+=("$(fetch "$p")"); done

arch=x86_64-linux-gnu
r=$work/root
u=$r/usr/lib/$arch
p=$work/prefix
mkdir -p "$p/bin" "$p/lib/pkgconfig" "$p/include"/{openblas,hdf5,yaml,zlib,stb}

# Headers, one folder per library so that none leaks another's headers onto the include path.
cp "$r/usr/include/$arch/openblas-pthread"/{cblas.h,openblas_config.h} "$p/include/openblas/"
cp "$r/usr/include/hdf5/serial"/*.h "$p/include/hdf5/"
cp "$r/usr/include/yaml.h" "$p/include/yaml/"
cp "$r/usr/include"/{zlib.h,zconf.h} "$p/include/zlib/"
cp "$r/usr/include/stb"/*.h "$p/include/stb/"

# Libraries under the names the .pc files link (-lopenblas, -lhdf5, ...).
cp "$(find "$u/openblas-pthread" -name 'libopenblasp-r*.so' | head -1)" "$p/lib/libopenblas.so.0"
ln -s libopenblas.so.0 "$p/lib/libopenblas.so"
cp "$(readlink -f "$u/libgfortran.so.5")" "$p/lib/libgfortran.so.5"
cp "$(readlink -f "$u/libquadmath.so.0")" "$p/lib/libquadmath.so.0"
for f in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0; do
  "$r/usr/bin/patchelf" --set-rpath "\$ORIGIN" "$p/lib/$f"
done
cp "$u/libhdf5_serial.a" "$p/lib/libhdf5.a"
cp "$u"/{libsz.a,libaec.a,libyaml.a,libz.a,libstb.a} "$p/lib/"

# pkgconf and its library; bin/pkg-config runs it on the bundle's .pc files alone.
cp "$r/usr/bin/pkgconf" "$p/bin/pkgconf"
cp "$(find "$u" -maxdepth 1 -name 'libpkgconf.so.3.*' | head -1)" "$p/lib/libpkgconf.so.3"
cat > "$p/bin/pkg-config" <<'EOF'
#!/bin/sh
# pkg-config over this tree's .pc files only. It runs the bundled pkgconf (its library beside
# it); where that cannot run (an older C library), the machine's own pkg-config or pkgconf.
here=$(cd "$(dirname "$0")/.." && pwd)
PKG_CONFIG_LIBDIR="$here/lib/pkgconfig"
export PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
if LD_LIBRARY_PATH="$here/lib" "$here/bin/pkgconf" --version >/dev/null 2>&1; then
  LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/bin/pkgconf" "$@"
fi
for tool in pkgconf pkg-config; do
  for d in /usr/bin /usr/local/bin /bin; do
    [ -x "$d/$tool" ] && exec "$d/$tool" "$@"
  done
done
echo "pkg-config: the bundled pkgconf does not run here and the machine has none" >&2
exit 1
EOF
chmod +x "$p/bin/pkg-config" "$p/bin/pkgconf"

# pc NAME VERSION DESCRIPTION LIBS CFLAGS: a relocatable .pc file.
pc() {
  cat > "$p/lib/pkgconfig/$1.pc" <<EOF
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: $1
Description: $3, from tools/gpu_bundle.sh
Version: $2
Libs: $4
Cflags: $5
EOF
}
ver() { dpkg-deb -f "$work/debs/$1"_*.deb Version 2>/dev/null || dpkg-query -W -f='${Version}' "$1"; }
upstream() { ver "$1" | sed -E 's/^[0-9]+://; s/([+~-]|\.dfsg).*//'; }
pc openblas "$(upstream libopenblas-pthread-dev)" "OpenBLAS, pthread flavour (shared)" \
   "-L\${libdir} -lopenblas" "-I\${includedir}/openblas"
pc hdf5 "$(upstream libhdf5-dev)" "HDF5, serial C library (static)" \
   "-L\${libdir} -lhdf5 -lsz -laec -lz -ldl -lm" "-I\${includedir}/hdf5"
pc yaml-0.1 "$(upstream libyaml-dev)" "LibYAML (static)" "-L\${libdir} -lyaml" "-I\${includedir}/yaml"
pc zlib "$(upstream zlib1g-dev)" "zlib (static)" "-L\${libdir} -lz" "-I\${includedir}/zlib"
pc stb 0.0 "stb single-file libraries, Debian's libstb build (static)" "-L\${libdir} -lstb -lm" "-I\${includedir}/stb"

# The check: one program using every library, built with the tree's flags alone, and run.
cat > "$work/t.c" <<'EOF'
#include <cblas.h>
#include <hdf5.h>
#include <stb_image.h>
#include <stb_image_write.h>
#include <stdio.h>
#include <yaml.h>
#include <string.h>
#include <zlib.h>
// gan.c sets OpenBLAS's thread count from a constructor: so does this.
__attribute__((constructor)) static void one_thread(void) { openblas_set_num_threads(1); }
struct png {
    unsigned char buf[4096];
    int len;
};
static void to_mem(void *ctx, void *data, int size) {
    struct png *p = ctx;
    if (p->len + size <= (int)sizeof p->buf) memcpy(p->buf + p->len, data, (size_t)size), p->len += size;
}
int main(int argc, char **argv) {
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {0};
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1.f, a, 2, b, 2, 0.f, c, 2);
    hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[1] = {4};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(f, "/c", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, c);
    H5Dclose(ds), H5Sclose(sp), H5Fclose(f);
    yaml_parser_t y;
    int yok = yaml_parser_initialize(&y);
    yaml_parser_delete(&y);
    unsigned char px[4] = {0, 64, 128, 255};
    struct png png = {.len = 0};
    int w = 0, h = 0, n = 0;
    stbi_write_png_to_func(to_mem, &png, 2, 2, 1, px, 2);
    unsigned char *back = stbi_load_from_memory(png.buf, png.len, &w, &h, &n, 1);
    uLongf zl = compressBound(4);
    unsigned char z[64];
    int zr = compress(z, &zl, px, 4);
    int ok = c[3] == 4.f && e >= 0 && yok && back && back[3] == 255 && w == 2 && zr == Z_OK;
    printf("%s: %s, HDF5 %d.%d.%d, yaml %s, zlib %s\n", ok ? "ok" : "FAILED", openblas_get_config(),
           H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE, yaml_get_version_string(), zlibVersion());
    return !ok;
}
EOF
mods="openblas hdf5 yaml-0.1 zlib stb"
# shellcheck disable=SC2046,SC2086  # word splitting of the flags is intended
# (-rpath: as meson gives a binary linking a shared library by its path)
cc -std=c11 -Wall -Werror -o "$work/t" "$work/t.c" $("$p/bin/pkg-config" --cflags --libs $mods) -Wl,-rpath,"$p/lib"
# The shared ones from the tree (the run path $ORIGIN), none of the static ones from the system.
libs=$(env -u LD_LIBRARY_PATH ldd "$work/t")
for l in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0; do
  grep -q "$l => $p/lib/$l" <<<"$libs" || { echo "gpu_bundle: $l is not loaded from the tree:"$'\n'"$libs" >&2; exit 1; }
done
if grep -Eq 'hdf5|yaml|libz\.|stb|libsz|libaec' <<<"$libs"; then
  echo "gpu_bundle: the test program loads a shared library meant to be linked statically:"$'\n'"$libs" >&2
  exit 1
fi
"$work/t" "$work/t.h5" > "$work/t.out" || { echo "gpu_bundle: the test program failed:" >&2; cat "$work/t.out" >&2; exit 1; }
echo "gpu_bundle: check: $(cat "$work/t.out")"

mkdir -p "$out"
rm -f "$out/deps.tar.xz" "$out/MANIFEST.txt"
tar -C "$p" -cf - . | xz -6 -T0 > "$out/deps.tar.xz"
{
  echo "# gpu-bundle: made by tools/gpu_bundle.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) ($(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release), $(uname -m))"
  echo "# unpacked and used by tools/gpu_check.sh (docs/gpu.md); the GPU machine's own nvcc, cuBLAS"
  echo "# and cuDNN are not in it."
  echo "deps.tar.xz sha256 $(sha256sum "$out/deps.tar.xz" | cut -d' ' -f1) bytes $(stat -c %s "$out/deps.tar.xz")"
  echo "## packages (name version source)"
  printf '%s\n' "${sources[@]}"
  echo "## files (bytes path)"
  (cd "$p" && find . \( -type f -printf '%s %P\n' \) -o \( -type l -printf '%s %P -> %l\n' \) | sort -k2)
} > "$out/MANIFEST.txt"
echo "gpu_bundle: wrote $out/deps.tar.xz ($(du -h "$out/deps.tar.xz" | cut -f1)) and $out/MANIFEST.txt"
