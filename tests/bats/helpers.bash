# helpers.bash: shared by every Bats suite. `make check` exports
# abs_top_srcdir and abs_top_builddir; run by hand, they default to this tree.
: "${abs_top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${abs_top_builddir:=$abs_top_srcdir/build}"
export abs_top_srcdir abs_top_builddir
PATH=$abs_top_builddir:$PATH

# Fails the test with a message on stderr (shown by bats on failure).
die() {
	echo "$*" >&2
	return 1
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
	if [ "$1" != "$2" ]; then
		printf '%s: expected [%s], got [%s]\n' "${3:-value}" "$1" "$2" >&2
		return 1
	fi
}

# assert_contains HAYSTACK NEEDLE
assert_contains() {
	case $1 in
	*"$2"*) return 0 ;;
	esac
	printf 'expected output to contain [%s], got:\n%s\n' "$2" "$1" >&2
	return 1
}
