#!/usr/bin/env bats
# Tree hygiene that a reviewer would otherwise check by hand: every shell
# script and Bats file passes shellcheck; no function is too long to read in
# one screen.

load helpers

@test "shell scripts pass shellcheck" {
	command -v shellcheck >/dev/null || die "shellcheck not installed (apt-get install shellcheck)"
	cd "$abs_top_srcdir"
	local scripts=() bats=() files
	# Our files: what git tracks, or (in a dist tree) everything but what
	# autotools generated.
	if files=$(git ls-files 2>/dev/null) && [ -n "$files" ]; then
		files=$(printf '%s\n' "$files" | sed 's|^|./|')
	else
		files=$(find . \( -path ./build -o -path ./_build -o -path ./autom4te.cache -o -path ./build-aux \) -prune \
			-o -type f -perm -u+x ! -name 'configure*' ! -name config.status -print)
	fi
	while IFS= read -r f; do
		case $f in *.bats) [ -f "$f" ] && bats+=("$f"); continue ;; esac
		[ -f "$f" ] && [ -x "$f" ] || continue
		if head -n1 "$f" | grep -qE '^#!.*\b(ba)?sh\b'; then scripts+=("$f"); fi
	done <<< "$files"
	[ "${#scripts[@]}" -gt 0 ] || die "no scripts found"
	run shellcheck -x "${scripts[@]}"
	[ "$status" -eq 0 ] || die "$output"
	# Bats files: above all SC2314/SC2315, a `! cmd` that can never fail a
	# test. Left out, as false alarms in Bats: SC2030/SC2031 (each @test is
	# a subshell), SC2154 (variables from `load`ed helpers, which shellcheck
	# does not follow) and SC2016 (scripts quoted for bash -c or jq).
	[ "${#bats[@]}" -gt 0 ] || die "no Bats files found"
	run shellcheck -x -e SC2030,SC2031,SC2154,SC2016 "${bats[@]}"
	[ "$status" -eq 0 ] || die "$output"
}

@test "shellcheck in the lint suite catches a Bats negation that never fails" {
	local f=$BATS_TEST_TMPDIR/neg.bats
	printf '#!/usr/bin/env bats\n@test "x" {\n\t! false\n}\n' > "$f"
	run shellcheck -e SC2030,SC2031,SC2154,SC2016 "$f"
	assert_eq 1 "$status"
	assert_contains "$output" "SC2314"
}

@test "man pages pass mandoc -Tlint" {
	command -v mandoc >/dev/null || die "mandoc not installed (apt-get install mandoc)"
	run mandoc -Tlint "$abs_top_srcdir"/man/*.[1-8]
	[ "$status" -eq 0 ] || die "$output"
	assert_eq "" "$output"
}

@test "each program's man page names every option its --help lists" {
	local page name opt missing=""
	for page in "$abs_top_srcdir"/man/*.[18]; do
		name=${page##*/}
		name=${name%.*}
		[ -x "$abs_top_builddir/$name" ] || continue
		for opt in $("$abs_top_builddir/$name" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
			grep -qF -- "${opt//-/\\-}" "$page" || missing+=" $name:$opt"
		done
	done
	assert_eq "" "$missing"
}

@test "no function over 80 lines, no main over 60 (outside tests)" {
	cd "$abs_top_srcdir"
	local files
	if ! files=$(git ls-files 'lib/*.cc' 'lib/*.hh' 'bin/*.cc' 'init/*.cc' 2>/dev/null) || [ -z "$files" ]; then
		files=$(find lib bin init -name '*.cc' -o -name '*.hh')
	fi
	# shellcheck disable=SC2086 # one path per word
	run python3 tests/fnlength --max=80 $files
	[ "$status" -eq 0 ] || die "$output"
	# shellcheck disable=SC2086
	run python3 tests/fnlength --max=60 --only=main $files
	[ "$status" -eq 0 ] || die "$output"
}

@test "fnlength finds a long function and passes a short one" {
	local f=$BATS_TEST_TMPDIR/t.cc
	{ echo 'int f(int x) {'; for _ in $(seq 90); do echo '	x++;'; done; echo '	return x;'; echo '}'; } > "$f"
	run python3 "$abs_top_srcdir/tests/fnlength" --max=80 "$f"
	[ "$status" -eq 1 ]
	[[ $output == *"t.cc:1: f: 91 lines (limit 80)"* ]]
	run python3 "$abs_top_srcdir/tests/fnlength" --max=100 "$f"
	[ "$status" -eq 0 ]
}
