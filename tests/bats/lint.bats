#!/usr/bin/env bats
# Tree hygiene that a reviewer would otherwise check by hand: every shell
# script passes shellcheck.

load helpers

@test "shell scripts pass shellcheck" {
	command -v shellcheck >/dev/null || die "shellcheck not installed (apt-get install shellcheck)"
	cd "$abs_top_srcdir"
	local scripts=()
	while IFS= read -r f; do
		case $f in *.bats|*/build-aux/*|*/autom4te.cache/*|./configure|./build/*|*/_build/*) continue ;; esac
		if head -n1 "$f" | grep -qE '^#!.*\b(ba)?sh\b'; then scripts+=("$f"); fi
	done < <(find . \( -path ./build -o -path ./.git -o -path ./autom4te.cache \) -prune -o -type f -perm -u+x -print)
	[ "${#scripts[@]}" -gt 0 ] || die "no scripts found"
	run shellcheck -x "${scripts[@]}"
	[ "$status" -eq 0 ] || die "$output"
}
