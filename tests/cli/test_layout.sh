#!/usr/bin/env bash
# The layering of src/ that include paths alone cannot enforce. Each src/gan folder's library
# sees only its own headers and those of the layers below (a higher layer's header does not
# compile), and src/layers and src/gan see only the engine's public headers
# (src/autograd/include/). A relative include would reach around both. So:
#   1. no relative includes ("../") in src/gan or src/layers;
#   2. src/gan and src/layers include only the engine's public headers, never an internal one
#      (check.h, op.h, op_list.h, op_params.h, rules.h, arena.h, cpu/*.h, ...);
#   3. header names are unique across src/, since everything is included by bare name.
# Usage: test_layout.sh [SOURCE_ROOT] (default: the repository this script is in).
set -u
cd "${1:-$(dirname "$0")/../..}" || exit 1

PUBLIC=$(cd src/autograd/include && echo *.h)

checks=0
failures=0
fail() {
  failures=$((failures + 1))
  echo "FAIL $*" >&2
}
has_word() { [[ " $1 " == *" $2 "* ]]; }

internal=""
for h in $(find src/autograd -name '*.h' -not -path 'src/autograd/include/*'); do
  b=$(basename "$h")
  has_word "$PUBLIC" "$b" || internal="$internal $b"
done

for f in $(find src/gan src/layers -name '*.[ch]' | sort); do
  while IFS=: read -r line inc; do
    checks=$((checks + 1))
    name=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/' <<<"$inc")
    b=$(basename "$name")
    if [[ "$name" == ../* || "$name" == */../* ]]; then
      fail "$f:$line: #include \"$name\": a relative include; include by bare name from a layer below"
    elif has_word "$internal" "$b"; then
      fail "$f:$line: #include \"$name\": an internal header of the engine (public: $PUBLIC)"
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
done

checks=$((checks + 1))
for b in $(find src -name '*.h' -printf '%f\n' | sort | uniq -d); do
  fail "two headers named $b under src/: $(find src -name "$b" | tr '\n' ' ')"
done

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
